/* ws.c - the event loop and WebSocket client connections on libwebsockets (see ws.h).
 *
 * lws calls one protocol callback for every connection; each struct ws hangs off its wsi as the
 * opaque user data, which finish() clears, so callbacks that lws makes after a connection is
 * reported closed find nothing and do nothing. Posted calls sit in a locked list that the
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED callback (raised by lws_cancel_service(), the one thread-safe
 * lws call) drains on the loop's thread. */
#include "ws.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "buf.h"
#include "err.h"
#include "log.h"

enum {
    TICK_US = 100 * 1000,
    BEFORE_WAIT_ROUNDS = 4,        /* calls of the before-wait hook in a row, at most */
    WRITE_BURST = 64,              /* messages written in one WRITEABLE callback, at most */
    WRITE_BURST_BYTES = 64 * 1024, /* and bytes: the rest waits for the next callback */
    READ_BYTES = 64 * 1024 /* read from a socket at once: lws's 4 KiB default held two or three
                              Slack events, so each turn of the loop (a commit of their records,
                              a write of their acknowledgements) served only those */
};

struct post {
    struct post *next;
    void (*fn)(void *arg);
    void *arg;
};

struct ws_loop {
    struct lws_context *ctx;
    pthread_mutex_t lock;        /* guards posts */
    struct post *posts;          /* posted calls, newest first */
    struct post *running;        /* the batch run_posts() is running, oldest first */
    struct ws *conns;            /* open connections, for ws_loop_free */
    lws_sorted_usec_list_t tick; /* wakes lws_service so done() is checked */
    lws_retry_bo_t policies[8];  /* keepalive policies, kept as long as lws may read them */
    int npolicies;
    int destroying;                /* ws_loop_free: call no handlers */
    int (*before_wait)(void *arg); /* ws_loop_before_wait() */
    void *before_wait_arg;
};

struct ws_timer {
    lws_sorted_usec_list_t sul; /* first: the lws callback gets a pointer to it */
    struct ws_loop *loop;
    void (*fn)(void *arg);
    void *arg;
    int armed;
};

struct out {
    struct out *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the message */
};

struct ws {
    struct ws_loop *loop;
    struct lws *wsi;
    const struct ws_handler *h;
    void *ctx;
    struct ws *prev, *next;  /* in loop->conns */
    struct buf rx;           /* the message being reassembled */
    int rx_active;           /* a message has started and not ended */
    int rx_drop;             /* the message is over the cap: skip to its end */
    int rx_binary;           /* the message is binary: skip it */
    struct out *head, *tail; /* send queue */
    size_t queued, max_queue;
    int open, closing, connecting, failed_early;
    int aborting;  /* ws_abort(): no close handshake */
    int peer_code; /* the close status the peer sent */
    char why[160]; /* why it ended, for on_close */
    char name[32];
};

/* ---- loop ---- */

/* The last "SSL error: ..." line lws logged: its CONNECTION_ERROR string for a refused
 * certificate is an opaque "connect SSL err 1: ...", the reason comes only as a log line. lws
 * logs on the loop's thread, the only one that reads this. */
static char ssl_reason[160];

static void emit_lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    const char *ssl = strstr(line, "SSL error: ");
    if (ssl)
        snprintf(ssl_reason, sizeof ssl_reason, "%.*s", (int)(n - (size_t)(ssl - line)), ssl);
    /* lws' own lines are detail: what matters is reported by the connections themselves */
    log_msg(LOG_DEBUG, "lws %s: %.*s", level == LLL_ERR ? "error" : "warning", (int)n, line);
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct ws_loop *l = lws_container_of(sul, struct ws_loop, tick);
    lws_sul_schedule(l->ctx, 0, &l->tick, tick, TICK_US);
}

static void run_posts(struct ws_loop *l)
{
    pthread_mutex_lock(&l->lock);
    struct post *p = l->posts, *rev = NULL;
    l->posts = NULL;
    while (p) { /* oldest first */
        struct post *next = p->next;
        p->next = rev;
        rev = p;
        p = next;
    }
    /* one at a time, so that ws_loop_unpost() can still drop the calls not yet run */
    l->running = rev;
    while ((p = l->running) != NULL) {
        l->running = p->next;
        pthread_mutex_unlock(&l->lock);
        p->fn(p->arg);
        free(p);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

static const struct lws_protocols protocols[] = {
    { "planbot", callback, 0, READ_BYTES, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

int ws_loop_new(struct ws_loop **out, const char *ca_file, char *err, size_t errlen)
{
    struct ws_loop *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    pthread_mutex_init(&l->lock, NULL);
    lws_set_log_level(LLL_ERR | LLL_WARN, emit_lws_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.pt_serv_buf_size = READ_BYTES;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = ca_file;
    if (ca_file) /* instead of the system's authorities, not as well */
        info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.user = l;
    info.gid = -1;
    info.uid = -1;
    l->ctx = lws_create_context(&info);
    if (!l->ctx) {
        snprintf(err, errlen, "cannot start the event loop (libwebsockets)%s%s",
                 ca_file ? "; check the CA file " : "", ca_file ? ca_file : "");
        pthread_mutex_destroy(&l->lock);
        free(l);
        return ERR_IO;
    }
    lws_sul_schedule(l->ctx, 0, &l->tick, tick, TICK_US);
    *out = l;
    return 0;
}

static void finish(struct ws *ws, int code, const char *why);

void ws_loop_free(struct ws_loop *l)
{
    if (!l)
        return;
    l->destroying = 1;
    while (l->conns)
        finish(l->conns, 0, "the loop stopped");
    lws_sul_cancel(&l->tick);
    lws_context_destroy(l->ctx);
    for (struct post *p = l->posts, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void ws_loop_before_wait(struct ws_loop *l, int (*fn)(void *arg), void *arg)
{
    l->before_wait = fn;
    l->before_wait_arg = arg;
}

void ws_loop_run(struct ws_loop *l, int (*done)(void *arg), void *arg)
{
    while (!done(arg)) {
        for (int i = 0; i < BEFORE_WAIT_ROUNDS && l->before_wait; i++)
            if (!l->before_wait(l->before_wait_arg))
                break;
        if (lws_service(l->ctx, 0) < 0)
            break;
    }
}

int ws_loop_post(struct ws_loop *l, void (*fn)(void *arg), void *arg)
{
    struct post *p = malloc(sizeof *p);
    if (!p)
        return ERR_NOMEM;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&l->lock);
    p->next = l->posts;
    l->posts = p;
    pthread_mutex_unlock(&l->lock);
    lws_cancel_service(l->ctx);
    return 0;
}

void ws_loop_unpost(struct ws_loop *l, void *arg)
{
    pthread_mutex_lock(&l->lock);
    for (int list = 0; list < 2; list++)
        for (struct post **pp = list ? &l->running : &l->posts; *pp;) {
            if ((*pp)->arg == arg) {
                struct post *dead = *pp;
                *pp = dead->next;
                free(dead);
            } else {
                pp = &(*pp)->next;
            }
        }
    pthread_mutex_unlock(&l->lock);
}

int64_t ws_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- timers ---- */

static void timer_fired(lws_sorted_usec_list_t *sul)
{
    struct ws_timer *t = lws_container_of(sul, struct ws_timer, sul);
    t->armed = 0;
    t->fn(t->arg);
}

struct ws_timer *ws_timer_new(struct ws_loop *l, void (*fn)(void *arg), void *arg)
{
    struct ws_timer *t = calloc(1, sizeof *t);
    if (t) {
        t->loop = l;
        t->fn = fn;
        t->arg = arg;
    }
    return t;
}

void ws_timer_set(struct ws_timer *t, int64_t ms)
{
    t->armed = 1;
    lws_sul_schedule(t->loop->ctx, 0, &t->sul, timer_fired, (lws_usec_t)(ms < 0 ? 0 : ms) * 1000);
}

void ws_timer_cancel(struct ws_timer *t)
{
    if (t->armed)
        lws_sul_cancel(&t->sul);
    t->armed = 0;
}

int ws_timer_armed(const struct ws_timer *t)
{
    return t->armed;
}

void ws_timer_free(struct ws_timer *t)
{
    if (!t)
        return;
    ws_timer_cancel(t);
    free(t);
}

int64_t ws_backoff_ms(unsigned attempt, int64_t cap_ms)
{
    int64_t base;
    if (attempt == 0)
        base = 0;
    else if (attempt > 20)
        base = cap_ms;
    else
        base = (int64_t)1000 << (attempt - 1);
    if (base > cap_ms)
        base = cap_ms;
    /* random() is enough to spread reconnects; nothing here needs to be unpredictable */
    int64_t spread = attempt == 0 ? 250 : base * 3 / 10;
    return base + (spread > 0 ? random() % (spread + 1) : 0);
}

/* ---- URLs ---- */

int ws_url_parse(const char *url, struct ws_url *out)
{
    memset(out, 0, sizeof *out);
    const char *p;
    if (strncasecmp(url, "ws://", 5) == 0) {
        p = url + 5;
    } else if (strncasecmp(url, "wss://", 6) == 0) {
        p = url + 6;
        out->tls = 1;
    } else {
        return ERR_INVAL;
    }
    size_t auth = strcspn(p, "/?#");
    if (memchr(p, '@', auth))
        return ERR_INVAL; /* user info has no place in a WebSocket URL planbot is given */
    const char *host = p, *host_end;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', auth);
        if (!host_end)
            return ERR_INVAL;
        p = host_end + 1;
    } else {
        host_end = p;
        while (host_end < p + auth && *host_end != ':')
            host_end++;
        p = host_end;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof out->host)
        return ERR_INVAL;
    for (size_t i = 0; i < hlen; i++)
        if (!isalnum((unsigned char)host[i]) && !strchr(".-_:", host[i]))
            return ERR_INVAL;
    memcpy(out->host, host, hlen);
    out->port = out->tls ? 443 : 80;
    const char *rest = url + (strstr(url, "//") - url) + 2 + auth;
    if (p < rest && *p == ':') {
        if (!isdigit((unsigned char)p[1]))
            return ERR_INVAL; /* strtol would take " 80" and "+80" */
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || end != rest || port < 1 || port > 65535)
            return ERR_INVAL;
        out->port = (int)port;
    } else if (p != rest) {
        return ERR_INVAL;
    }
    const char *frag = strchr(rest, '#');
    size_t plen = frag ? (size_t)(frag - rest) : strlen(rest);
    if (plen + 2 > sizeof out->path)
        return ERR_INVAL;
    if (plen == 0 || *rest != '/')
        out->path[0] = '/';
    memcpy(out->path + strlen(out->path), rest, plen);
    return 0;
}

/* ---- connections ---- */

/* A keepalive policy of the loop's: lws reads it for as long as a connection lives, and longer
 * than struct ws does, so the loop owns it. */
static const lws_retry_bo_t *keepalive(struct ws_loop *l, int ping, int hangup)
{
    for (int i = 0; i < l->npolicies; i++)
        if (l->policies[i].secs_since_valid_ping == ping &&
            l->policies[i].secs_since_valid_hangup == hangup)
            return &l->policies[i];
    int n = l->npolicies < 8 ? l->npolicies++ : 7; /* eight kinds are plenty; else reuse one */
    l->policies[n].secs_since_valid_ping = (uint16_t)ping;
    l->policies[n].secs_since_valid_hangup = (uint16_t)hangup;
    return &l->policies[n];
}
static void free_queue(struct ws *ws)
{
    for (struct out *o = ws->head, *next; o; o = next) {
        next = o->next;
        free(o);
    }
    ws->head = ws->tail = NULL;
    ws->queued = 0;
}

/* Reports the end once and frees ws. */
static void finish(struct ws *ws, int code, const char *why)
{
    struct ws_loop *l = ws->loop;
    if (ws->wsi) {
        lws_set_opaque_user_data(ws->wsi, NULL);
        if (l->destroying)
            lws_set_timeout(ws->wsi, 1, LWS_TO_KILL_SYNC);
    }
    if (ws->prev)
        ws->prev->next = ws->next;
    else
        l->conns = ws->next;
    if (ws->next)
        ws->next->prev = ws->prev;
    if (!l->destroying && !ws->connecting && ws->h->on_close)
        ws->h->on_close(ws->ctx, ws, code, why);
    buf_free(&ws->rx);
    free_queue(ws);
    free(ws);
}

static void received(struct ws *ws, const char *in, size_t len)
{
    if (!ws->rx_active) { /* a new message starts */
        ws->rx_active = 1;
        buf_reset(&ws->rx);
        ws->rx_drop = 0;
        ws->rx_binary = lws_frame_is_binary(ws->wsi);
        if (ws->rx_binary)
            log_msg(LOG_WARN, "%s: ignored a binary message (only text is expected)", ws->name);
    }
    if (!ws->rx_drop && !ws->rx_binary && buf_append(&ws->rx, in, len)) {
        log_msg(LOG_WARN, "%s: dropped a message over %zu bytes", ws->name, ws->rx.max);
        ws->rx_drop = 1;
        buf_free(&ws->rx);
    }
    if (!lws_is_final_fragment(ws->wsi) || lws_remaining_packet_payload(ws->wsi))
        return;
    ws->rx_active = 0;
    if (!ws->rx_drop && !ws->rx_binary && ws->h->on_text)
        ws->h->on_text(ws->ctx, ws, ws->rx.data ? ws->rx.data : "", ws->rx.len);
}

/* Writes what is queued: several messages in one callback (lws 4.1 keeps what the socket does
 * not take at once and sends it first, in order: lib/core-net/output.c), so that a burst of
 * acknowledgements costs one turn of the loop, not one each. */
static int writeable(struct ws *ws)
{
    if (ws->aborting)
        return -1;
    if (ws->head) {
        size_t bytes = 0;
        /* several messages: corked, so that they leave in as few segments as fit */
        int fd = ws->head->next ? lws_get_socket_fd(ws->wsi) : -1, on = 1, off = 0;
        if (fd >= 0)
            setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
        int n = 0;
        for (; ws->head && n < WRITE_BURST && bytes < WRITE_BURST_BYTES; n++) {
            struct out *o = ws->head;
            ws->head = o->next;
            if (!ws->head)
                ws->tail = NULL;
            ws->queued -= o->len;
            bytes += o->len;
            int w = lws_write(ws->wsi, o->data + LWS_PRE, o->len, LWS_WRITE_TEXT);
            free(o);
            if (w < 0) {
                snprintf(ws->why, sizeof ws->why, "writing to the socket failed");
                return -1;
            }
        }
        if (fd >= 0) /* uncorking sends what waits at once */
            setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
        /* also before a close: what was just written (an acknowledgement) is out */
        if (!ws->head && ws->h->on_drained)
            ws->h->on_drained(ws->ctx, ws);
        if (ws->head || ws->closing)
            lws_callback_on_writable(ws->wsi);
        return 0;
    }
    if (ws->closing) {
        lws_close_reason(ws->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
        snprintf(ws->why, sizeof ws->why, "closed by planbot");
        return -1;
    }
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    struct ws *ws = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
        struct ws_loop *l = lws_context_user(lws_get_context(wsi));
        if (l)
            run_posts(l);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!ws)
            return -1;
        ws->open = 1;
        if (ws->closing || ws->head) /* what was queued before the handshake */
            lws_callback_on_writable(wsi);
        if (ws->closing)
            return 0;
        if (ws->h->on_open)
            ws->h->on_open(ws->ctx, ws);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (ws)
            received(ws, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: return ws ? writeable(ws) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (ws && len >= 2) {
            const unsigned char *c = in;
            ws->peer_code = c[0] << 8 | c[1];
        }
        if (ws)
            snprintf(ws->why, sizeof ws->why, "the server closed the connection");
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (ws) {
            char why[160];
            snprintf(why, sizeof why, "%.*s", in && len ? (int)len : 14,
                     in && len ? (const char *)in : "cannot connect");
            if (strstr(why, "SSL") && ssl_reason[0]) /* say why the certificate was refused */
                snprintf(why, sizeof why, "%s", ssl_reason);
            ssl_reason[0] = '\0';
            lws_set_opaque_user_data(wsi, NULL);
            ws->wsi = NULL; /* lws frees it when it returns */
            if (ws->connecting) {
                ws->failed_early = 1;
                snprintf(ws->why, sizeof ws->why, "%s", why);
                return 0;
            }
            finish(ws, 0, why);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (ws && ws->connecting) { /* failed inside lws_client_connect_via_info() */
            lws_set_opaque_user_data(wsi, NULL);
            ws->wsi = NULL;
            ws->failed_early = 1;
            if (!ws->why[0])
                snprintf(ws->why, sizeof ws->why, "cannot connect");
            return 0;
        }
        if (ws) {
            if (!ws->why[0])
                snprintf(ws->why, sizeof ws->why,
                         ws->open ? "the connection dropped" : "cannot connect");
            lws_set_opaque_user_data(wsi, NULL); /* lws may call again for this wsi */
            ws->wsi = NULL;
            char why[160];
            memcpy(why, ws->why, sizeof why);
            finish(ws, ws->peer_code, why);
        }
        return 0;
    default: return 0;
    }
}

int ws_connect(struct ws_loop *l, const char *url, const struct ws_options *opt,
               const struct ws_handler *h, void *ctx, struct ws **out, char *err, size_t errlen)
{
    struct ws_url u;
    if (ws_url_parse(url, &u)) {
        snprintf(err, errlen, "not a ws:// or wss:// URL that planbot can use");
        return ERR_INVAL;
    }
    struct ws *ws = calloc(1, sizeof *ws);
    if (!ws) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    ws->loop = l;
    ws->h = h;
    ws->ctx = ctx;
    buf_init(&ws->rx, opt && opt->max_message ? opt->max_message : 1024 * 1024);
    ws->max_queue = opt && opt->max_queue ? opt->max_queue : 4 * 1024 * 1024;
    const lws_retry_bo_t *policy = keepalive(l, opt && opt->ping_secs ? opt->ping_secs : 10,
                                             opt && opt->hangup_secs ? opt->hangup_secs : 30);
    snprintf(ws->name, sizeof ws->name, "%s", opt && opt->log_name ? opt->log_name : "websocket");

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = l->ctx;
    ci.address = opt && opt->address ? opt->address : u.host;
    ci.port = u.port;
    ci.path = u.path;
    char host[sizeof u.host + 16]; /* the Host header: with the port unless it is the default */
    int v6 = strchr(u.host, ':') != NULL;
    if (u.port == (u.tls ? 443 : 80))
        snprintf(host, sizeof host, v6 ? "[%s]" : "%s", u.host);
    else
        snprintf(host, sizeof host, v6 ? "[%s]:%d" : "%s:%d", u.host, u.port);
    ci.host = host;
    ci.origin = u.host;
    ci.ssl_connection = u.tls ? LCCSCF_USE_SSL : 0;
    ci.protocol = NULL;
    ci.local_protocol_name = "planbot";
    ci.opaque_user_data = ws;
    ci.retry_and_idle_policy = policy;
    ci.pwsi = &ws->wsi;

    ws->connecting = 1;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    ws->connecting = 0;
    if (!wsi || ws->failed_early) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", u.host, u.port,
                 ws->why[0] ? ws->why : "libwebsockets refused the connection");
        buf_free(&ws->rx);
        free(ws);
        return ERR_IO;
    }
    ws->next = l->conns;
    if (l->conns)
        l->conns->prev = ws;
    l->conns = ws;
    *out = ws;
    return 0;
}

int ws_send(struct ws *ws, const char *data, size_t len)
{
    if (ws->closing || !ws->wsi)
        return ERR_IO;
    if (ws->queued + len > ws->max_queue)
        return ERR_TOOBIG;
    struct out *o = malloc(sizeof *o + LWS_PRE + len);
    if (!o)
        return ERR_NOMEM;
    o->next = NULL;
    o->len = len;
    memcpy(o->data + LWS_PRE, data, len);
    if (ws->tail)
        ws->tail->next = o;
    else
        ws->head = o;
    ws->tail = o;
    ws->queued += len;
    if (ws->open)
        lws_callback_on_writable(ws->wsi);
    return 0;
}

void ws_close(struct ws *ws)
{
    if (ws->closing)
        return;
    ws->closing = 1;
    if (ws->wsi && ws->open)
        lws_callback_on_writable(ws->wsi);
    else if (ws->wsi)
        lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void ws_abort(struct ws *ws)
{
    ws->closing = ws->aborting = 1;
    snprintf(ws->why, sizeof ws->why, "dropped by planbot");
    if (ws->wsi)
        lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int ws_is_open(const struct ws *ws)
{
    return ws->open && !ws->closing;
}
