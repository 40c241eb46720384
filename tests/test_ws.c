/* test_ws.c - the WebSocket client (bot/net/ws.c), a transport of the loop (test_loop.c).
 *
 * URL parsing is pure and checked with tables. Everything else runs the real client
 * against a real libwebsockets server on 127.0.0.1: a second lws context, served in its own
 * thread, that plays a script of messages (sent in as many WebSocket fragments as the test asks,
 * one lws_write per WRITEABLE callback), can echo what it receives and records the close status
 * the client sends. Every wait has a deadline, so a broken client fails a test instead of hanging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "err.h"
#include "log.h"
#include "ws.h"

enum { WAIT_MS = 3000, MAX_ITEMS = 512, MAX_MSGS = 256 };

/* ---- the server: a second lws context in its own thread ---- */

struct item {
    const char *data; /* the message; owned when owned is set */
    size_t len;
    size_t frag;    /* bytes per WebSocket fragment; 0: one frame */
    int close_code; /* nonzero: close the connection with this status instead */
    int owned;
};

struct srv {
    struct lws_context *ctx;
    pthread_t thread;
    int running;
    atomic_int stop;
    int port;
    int echo; /* send every message received back */
    /* the send queue: filled by the test before the start, then only by the server thread */
    struct item items[MAX_ITEMS];
    size_t head, tail;
    size_t sent; /* bytes of items[head] already written */
    char *rx;    /* the message being received */
    size_t rx_len;
    /* what the test reads while the server runs */
    pthread_mutex_t lock; /* guards got and ngot */
    char *got[MAX_MSGS];  /* messages received, in order (owned) */
    size_t ngot;
    atomic_int established;     /* connections that completed the handshake */
    atomic_int closed;          /* connections that ended */
    atomic_int peer_close_code; /* the status of the client's close frame; -1: none yet */
    atomic_int overflow;        /* the server dropped something: the test is wrong */
    char host[300];             /* the Host header of the last handshake (under lock) */
};

static void srv_push(struct srv *s, const char *data, size_t len, size_t frag, int close_code,
                     int owned)
{
    if (s->tail == MAX_ITEMS) {
        atomic_store(&s->overflow, 1);
        if (owned)
            free((char *)data);
        return;
    }
    s->items[s->tail++] = (struct item){ data, len, frag, close_code, owned };
}

static int srv_writeable(struct srv *s, struct lws *wsi)
{
    if (s->head == s->tail)
        return 0;
    struct item *it = &s->items[s->head];
    if (it->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)it->close_code, (unsigned char *)"bye", 3);
        s->head++;
        return -1;
    }
    size_t n = it->len - s->sent;
    if (it->frag && n > it->frag)
        n = it->frag;
    unsigned char *b = malloc(LWS_PRE + n + 1);
    if (!b)
        return -1;
    memcpy(b + LWS_PRE, it->data + s->sent, n);
    int first = s->sent == 0, last = s->sent + n == it->len;
    int flags = (first ? LWS_WRITE_TEXT : LWS_WRITE_CONTINUATION) | (last ? 0 : LWS_WRITE_NO_FIN);
    int w = lws_write(wsi, b + LWS_PRE, n, (enum lws_write_protocol)flags);
    free(b);
    if (w < (int)n)
        return -1;
    s->sent += n;
    if (last) {
        if (it->owned)
            free((char *)it->data);
        s->head++;
        s->sent = 0;
    }
    if (s->head != s->tail)
        lws_callback_on_writable(wsi);
    return 0;
}

static void srv_received(struct srv *s, struct lws *wsi, const char *in, size_t len)
{
    char *p = realloc(s->rx, s->rx_len + len + 1);
    if (!p) {
        atomic_store(&s->overflow, 1);
        return;
    }
    s->rx = p;
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    s->rx[s->rx_len] = '\0';
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return;
    char *msg = s->rx;
    size_t msg_len = s->rx_len;
    s->rx = NULL;
    s->rx_len = 0;
    if (s->echo) {
        char *copy = malloc(msg_len + 1);
        if (!copy) {
            atomic_store(&s->overflow, 1);
        } else {
            memcpy(copy, msg, msg_len + 1);
            srv_push(s, copy, msg_len, 0, 0, 1);
            lws_callback_on_writable(wsi);
        }
    }
    pthread_mutex_lock(&s->lock);
    if (s->ngot < MAX_MSGS) {
        s->got[s->ngot++] = msg;
        msg = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (msg) {
        atomic_store(&s->overflow, 1);
        free(msg);
    }
}

static int srv_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct srv *s = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char host[sizeof s->host] = "";
        lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
        pthread_mutex_lock(&s->lock);
        memcpy(s->host, host, sizeof host);
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        atomic_fetch_add(&s->established, 1);
        if (s->head != s->tail)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return srv_writeable(s, wsi);
    case LWS_CALLBACK_RECEIVE: srv_received(s, wsi, in, len); return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        const unsigned char *c = in;
        atomic_store(&s->peer_close_code, len >= 2 ? c[0] << 8 | c[1] : 0);
        return 0;
    }
    case LWS_CALLBACK_CLOSED: atomic_fetch_add(&s->closed, 1); return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols srv_protocols[] = {
    { "test", srv_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    while (!atomic_load(&s->stop))
        if (lws_service(s->ctx, 0) < 0)
            break;
    return NULL;
}

/* Starts listening on a free port of 127.0.0.1 and serving in a thread; the script (srv_push)
 * and echo are set before. */
static void srv_start(struct srv *s)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = 0;
    info.iface = "127.0.0.1";
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.protocols = srv_protocols;
    info.user = s;
    info.gid = -1;
    info.uid = -1;
    s->ctx = lws_create_context(&info);
    assert_non_null(s->ctx);
    s->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(s->ctx, "default"));
    assert_true(s->port > 0);
    assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
    s->running = 1;
}

/* Stops the thread and frees everything; safe on a server never started. */
static void srv_stop(struct srv *s)
{
    if (s->running) {
        atomic_store(&s->stop, 1);
        lws_cancel_service(s->ctx);
        pthread_join(s->thread, NULL);
        s->running = 0;
    }
    if (s->ctx)
        lws_context_destroy(s->ctx);
    s->ctx = NULL;
    for (size_t i = s->head; i < s->tail; i++)
        if (s->items[i].owned)
            free((char *)s->items[i].data);
    s->head = s->tail = 0;
    free(s->rx);
    s->rx = NULL;
    for (size_t i = 0; i < s->ngot; i++)
        free(s->got[i]);
    s->ngot = 0;
}

/* A copy of message i the server received, or NULL when it has not arrived; caller frees. */
static char *srv_got(struct srv *s, size_t i)
{
    char *copy = NULL;
    pthread_mutex_lock(&s->lock);
    if (i < s->ngot) {
        size_t n = strlen(s->got[i]);
        copy = malloc(n + 1);
        if (copy)
            memcpy(copy, s->got[i], n + 1);
    }
    pthread_mutex_unlock(&s->lock);
    return copy;
}

static size_t srv_count(struct srv *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->ngot;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---- the client under test and its handler ---- */

/* The handlers only record what they see (a failed assertion must not unwind through lws);
 * each test asserts afterwards, and the teardown fails a test whose handlers saw something wrong.
 */
struct fx {
    struct srv srv;
    struct loop *loop;
    struct ws *ws;
    struct ws_options opt;
    int opens, closes;
    int close_code;
    char why[160];
    char *msgs[MAX_MSGS]; /* on_text's messages in order (owned) */
    size_t lens[MAX_MSGS];
    size_t nmsgs;
    void (*then)(struct fx *f); /* what on_open does */
    int send_rc[8];             /* ws_send results recorded by then() */
    int wrong;                  /* handler calls for another ws, or messages past MAX_MSGS */
    int drained;                /* on_drained calls */
};

static void on_open(void *ctx, struct ws *ws)
{
    struct fx *f = ctx;
    if (ws != f->ws)
        f->wrong++;
    f->opens++;
    if (f->then)
        f->then(f);
}

static void on_text(void *ctx, struct ws *ws, const char *data, size_t len)
{
    struct fx *f = ctx;
    char *copy = malloc(len + 1);
    if (ws != f->ws || f->nmsgs == MAX_MSGS || !copy) {
        f->wrong++;
        free(copy);
        return;
    }
    memcpy(copy, data, len);
    copy[len] = '\0';
    f->msgs[f->nmsgs] = copy;
    f->lens[f->nmsgs++] = len;
}

static void on_close(void *ctx, struct ws *ws, int code, const char *why)
{
    struct fx *f = ctx;
    if (ws != f->ws)
        f->wrong++;
    f->closes++;
    f->close_code = code;
    snprintf(f->why, sizeof f->why, "%s", why ? why : "");
    f->ws = NULL; /* freed when this returns */
}

static void on_drained(void *ctx, struct ws *ws)
{
    struct fx *f = ctx;
    if (ws != f->ws)
        f->wrong++;
    f->drained++;
}

static const struct ws_handler handler = {
    .on_open = on_open,
    .on_text = on_text,
    .on_close = on_close,
    .on_drained = on_drained,
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    pthread_mutex_init(&f->srv.lock, NULL);
    atomic_init(&f->srv.stop, 0);
    atomic_init(&f->srv.established, 0);
    atomic_init(&f->srv.closed, 0);
    atomic_init(&f->srv.overflow, 0);
    atomic_init(&f->srv.peer_close_code, -1);
    char err[256];
    if (loop_new(&f->loop, NULL, err, sizeof err)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int ok = f->wrong == 0 && atomic_load(&f->srv.overflow) == 0;
    if (!ok)
        print_error("handlers saw %d wrong calls; the server overflowed: %d\n", f->wrong,
                    atomic_load(&f->srv.overflow));
    loop_free(f->loop);
    srv_stop(&f->srv);
    pthread_mutex_destroy(&f->srv.lock);
    for (size_t i = 0; i < f->nmsgs; i++)
        free(f->msgs[i]);
    free(f);
    return ok ? 0 : -1;
}

/* Runs the loop until pred(f) holds; fails the test after ms milliseconds. */
struct waiting {
    struct fx *f;
    int (*pred)(struct fx *f);
    int64_t deadline;
};

static int wait_done(void *arg)
{
    struct waiting *w = arg;
    return (w->pred && w->pred(w->f)) || loop_now_ms() >= w->deadline;
}

#define WAIT_FOR(f, pred, ms)                                                                      \
    do {                                                                                           \
        struct waiting w_ = { (f), (pred), loop_now_ms() + (ms) };                                 \
        loop_run((f)->loop, wait_done, &w_);                                                       \
        if (!(pred)(f))                                                                            \
            fail_msg("timed out after %d ms waiting for %s", (int)(ms), #pred);                    \
    } while (0)

/* Runs the loop for ms milliseconds. */
static void run_for(struct fx *f, int ms)
{
    struct waiting w = { f, NULL, loop_now_ms() + ms };
    loop_run(f->loop, wait_done, &w);
}

static int is_open(struct fx *f)
{
    return f->opens > 0;
}

static int is_closed(struct fx *f)
{
    return f->closes > 0;
}

static void connect_to_srv(struct fx *f)
{
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/test?x=1", f->srv.port);
    int rc = ws_connect(f->loop, url, &f->opt, &handler, f, &f->ws, err, sizeof err);
    if (rc)
        fail_msg("ws_connect: %d %s", rc, err);
}

/* n pseudo-random letters, different for each seed, so a lost, repeated or misplaced
 * fragment shows. */
static char *pattern(size_t n, unsigned seed)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (char)('a' + (x >> 16) % 26);
    }
    p[n] = '\0';
    return p;
}

/* ---- ws_url_parse ---- */

static void url_parse_accepts_ws_and_wss_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int tls;
        const char *host;
        int port;
        const char *path;
    } rows[] = {
        { "ws://127.0.0.1:8080/link/?ticket=abc&app_id=A1", 0, "127.0.0.1", 8080,
          "/link/?ticket=abc&app_id=A1" },
        { "wss://wss-primary.slack.com/link/?x", 1, "wss-primary.slack.com", 443, "/link/?x" },
        { "WSS://Example.COM/a", 1, "Example.COM", 443, "/a" },
        { "ws://host", 0, "host", 80, "/" },
        { "ws://host/", 0, "host", 80, "/" },
        { "ws://host?x=1", 0, "host", 80, "/?x=1" },
        { "ws://host:1", 0, "host", 1, "/" },
        { "wss://host:65535/p", 1, "host", 65535, "/p" },
        { "ws://[::1]:9000/x", 0, "::1", 9000, "/x" },
        { "wss://[2001:db8::1]/", 1, "2001:db8::1", 443, "/" },
        { "ws://h/p?q=1#frag", 0, "h", 80, "/p?q=1" },
        { "ws://h#frag", 0, "h", 80, "/" },
        { "ws://h:81#frag/x", 0, "h", 81, "/" },
        { "ws://h/a@b", 0, "h", 80, "/a@b" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ws_url u;
        int rc = ws_url_parse(rows[i].url, &u);
        if (rc)
            fail_msg("row %zu \"%s\": rejected with %d", i, rows[i].url, rc);
        if (u.tls != rows[i].tls || strcmp(u.host, rows[i].host) || u.port != rows[i].port ||
            strcmp(u.path, rows[i].path))
            fail_msg("row %zu \"%s\": got tls=%d host=\"%s\" port=%d path=\"%s\"", i, rows[i].url,
                     u.tls, u.host, u.port, u.path);
    }
}

static void url_parse_rejects_bad_urls(void **state)
{
    (void)state;
    static const char *const rows[] = {
        "http://h/",
        "https://h/",
        "h:80/",
        "ws:/h/",
        "",
        "ws://",
        "wss://",
        "wss:///x",
        "ws://:80/",
        "ws://h:0/",
        "ws://h:99999/",
        "ws://h:12ab/",
        "ws://h:/",
        "ws://h:-1/",
        "ws://user@h/",
        "ws://u:p@h:80/",
        "ws://h x/",
        "ws://[::1/x",
        "ws://[]/",
        "ws://[::1]x/",
        "ws://h:1:2/",
        "ws://h\t/",
        "ws://h:99999999999999999999999/",
        "ws://h:80 /",
    };
    int accepted = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ws_url u;
        if (ws_url_parse(rows[i], &u) != ERR_INVAL) {
            print_error("row %zu \"%s\": accepted as host=\"%s\" port=%d path=\"%s\"\n", i, rows[i],
                        u.host, u.port, u.path);
            accepted++;
        }
    }
    assert_int_equal(accepted, 0);
}

static void url_parse_rejects_a_space_or_sign_before_the_port(void **state)
{
    (void)state;
    static const char *const rows[] = { "ws://h: 80/", "ws://h:+80/", "ws://h:\t80/" };
    int accepted = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ws_url u;
        if (ws_url_parse(rows[i], &u) != ERR_INVAL) {
            print_error("\"%s\": accepted as port %d\n", rows[i], u.port);
            accepted++;
        }
    }
    assert_int_equal(accepted, 0);
}

static void url_parse_limits_host_and_path_length(void **state)
{
    (void)state;
    struct ws_url u;
    char url[6000];
    size_t host_max = sizeof u.host - 1;

    /* a host of 255 characters fits, 256 do not */
    for (size_t hlen = host_max; hlen <= host_max + 1; hlen++) {
        int n = snprintf(url, sizeof url, "ws://%*s/x", (int)hlen, "");
        assert_true(n > 0 && (size_t)n < sizeof url);
        memset(url + 5, 'h', hlen);
        int rc = ws_url_parse(url, &u);
        assert_int_equal(rc, hlen <= host_max ? 0 : ERR_INVAL);
        if (rc == 0)
            assert_int_equal(strlen(u.host), hlen);
    }
    /* a path (query included) of 4094 characters fits, 4096 do not; never truncated */
    static const struct {
        char first; /* the character after the host: '/' or '?' (the parser adds '/') */
        size_t len; /* characters after the host, that one included */
        int rc;     /* -1: either, but whole when accepted */
    } rows[] = {
        { '/', 4094, 0 },         { '/', 4095, -1 }, { '/', 4096, ERR_INVAL },
        { '/', 5000, ERR_INVAL }, { '?', 4094, 0 },  { '?', 4095, ERR_INVAL },
        { '?', 4096, ERR_INVAL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        memcpy(url, "ws://h", 6);
        url[6] = rows[i].first;
        memset(url + 7, 'p', rows[i].len - 1);
        memcpy(url + 6 + rows[i].len, "#fragment", 10);
        int rc = ws_url_parse(url, &u);
        if (rows[i].rc != -1 && rc != rows[i].rc)
            fail_msg("row %zu (%zu characters after the host): %d", i, rows[i].len, rc);
        if (rc == 0) {
            size_t want = rows[i].len + (rows[i].first == '/' ? 0 : 1);
            assert_int_equal(strlen(u.path), want);
            assert_memory_equal(u.path, rows[i].first == '/' ? "/p" : "/?p", 2);
        }
    }
}

/* ---- messages against the server ---- */

static int got_two(struct fx *f)
{
    return f->nmsgs >= 2;
}

static void fragmented_300k_message_arrives_once_and_whole(void **state)
{
    struct fx *f = *state;
    size_t n = 300 * 1000;
    char *big = pattern(n, 1);
    srv_push(&f->srv, big, n, 45 * 1000, 0, 1); /* 7 fragments */
    srv_push(&f->srv, "end", 3, 0, 0, 0);
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, got_two, WAIT_MS);
    assert_int_equal(f->nmsgs, 2);
    char *expect = pattern(n, 1);
    assert_int_equal(f->lens[0], n);
    assert_memory_equal(f->msgs[0], expect, n);
    free(expect);
    assert_string_equal(f->msgs[1], "end");
    assert_int_equal(f->closes, 0);
}

static int got_four(struct fx *f)
{
    return f->nmsgs >= 4;
}

static void message_over_max_message_is_dropped_and_the_next_arrives(void **state)
{
    struct fx *f = *state;
    size_t cap = 64 * 1024;
    f->opt.max_message = cap;
    srv_push(&f->srv, pattern(200 * 1000, 2), 200 * 1000, 50 * 1000, 0, 1);
    srv_push(&f->srv, "after fragmented", 16, 0, 0, 0);
    srv_push(&f->srv, pattern(200 * 1000, 3), 200 * 1000, 0, 0, 1); /* one frame */
    srv_push(&f->srv, "after one frame", 15, 0, 0, 0);
    srv_push(&f->srv, pattern(cap, 4), cap, 10000, 0, 1);         /* exactly the cap */
    srv_push(&f->srv, pattern(cap + 1, 5), cap + 1, 10000, 0, 1); /* one byte over */
    srv_push(&f->srv, "last", 4, 0, 0, 0);
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, got_four, WAIT_MS);
    run_for(f, 50); /* nothing else is on its way */
    assert_int_equal(f->nmsgs, 4);
    assert_string_equal(f->msgs[0], "after fragmented");
    assert_string_equal(f->msgs[1], "after one frame");
    char *expect = pattern(cap, 4);
    assert_int_equal(f->lens[2], cap);
    assert_memory_equal(f->msgs[2], expect, cap);
    free(expect);
    assert_string_equal(f->msgs[3], "last");
    assert_int_equal(f->closes, 0);
    assert_non_null(f->ws);
    assert_true(ws_is_open(f->ws));
}

enum { NSEND = 200 };

static void send_200(struct fx *f)
{
    for (int i = 0; i < NSEND; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "m%03d", i);
        if (ws_send(f->ws, m, (size_t)n))
            f->wrong++;
    }
}

static int got_200(struct fx *f)
{
    return f->nmsgs >= NSEND;
}

static void sends_keep_their_order_through_an_echo_server(void **state)
{
    struct fx *f = *state;
    f->srv.echo = 1;
    f->then = send_200;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, got_200, WAIT_MS);
    assert_int_equal(f->nmsgs, NSEND);
    assert_int_equal(srv_count(&f->srv), NSEND);
    for (int i = 0; i < NSEND; i++) {
        char m[16];
        snprintf(m, sizeof m, "m%03d", i);
        if (strcmp(f->msgs[i], m))
            fail_msg("echo %d is \"%s\", expected \"%s\"", i, f->msgs[i], m);
        char *s = srv_got(&f->srv, (size_t)i);
        if (!s || strcmp(s, m))
            fail_msg("server message %d is \"%s\", expected \"%s\"", i, s ? s : "(none)", m);
        free(s);
    }
}

static void fill_small_queue(struct fx *f)
{
    char m[128];
    memset(m, 'q', sizeof m);
    f->send_rc[0] = ws_send(f->ws, m, 60);  /* 60 of 100 */
    f->send_rc[1] = ws_send(f->ws, m, 60);  /* 120: over */
    f->send_rc[2] = ws_send(f->ws, m, 40);  /* exactly 100 */
    f->send_rc[3] = ws_send(f->ws, m, 1);   /* 101: over */
    f->send_rc[4] = ws_send(f->ws, m, 101); /* larger than the whole queue */
}

static int got_three(struct fx *f)
{
    return f->nmsgs >= 3;
}

static void send_fails_with_toobig_when_the_queue_is_full(void **state)
{
    struct fx *f = *state;
    f->opt.max_queue = 100;
    f->srv.echo = 1;
    f->then = fill_small_queue;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, got_two, WAIT_MS);
    assert_int_equal(f->send_rc[0], 0);
    assert_int_equal(f->send_rc[1], ERR_TOOBIG);
    assert_int_equal(f->send_rc[2], 0);
    assert_int_equal(f->send_rc[3], ERR_TOOBIG);
    assert_int_equal(f->send_rc[4], ERR_TOOBIG);
    assert_int_equal(f->lens[0], 60);
    assert_int_equal(f->lens[1], 40);
    /* once written, the queue has room again */
    char m[100];
    memset(m, 'r', sizeof m);
    assert_int_equal(ws_send(f->ws, m, sizeof m), 0);
    WAIT_FOR(f, got_three, WAIT_MS);
    assert_int_equal(f->lens[2], sizeof m);
}

static void send_before_open_is_delivered_after_the_handshake(void **state)
{
    struct fx *f = *state;
    f->srv.echo = 1;
    srv_start(&f->srv);
    connect_to_srv(f);
    assert_int_equal(f->opens, 0);
    assert_int_equal(ws_is_open(f->ws), 0);
    assert_int_equal(ws_send(f->ws, "early", 5), 0);
    WAIT_FOR(f, is_open, WAIT_MS);
    int64_t until = loop_now_ms() + 1000;
    while (f->nmsgs == 0 && loop_now_ms() < until)
        run_for(f, 20);
    if (f->nmsgs == 0)
        fail_msg("a message sent before on_open was not written within 1 s (server got %zu)",
                 srv_count(&f->srv));
    assert_string_equal(f->msgs[0], "early");
}

static void handshake_host_header_names_the_port(void **state)
{
    struct fx *f = *state;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, is_open, WAIT_MS);
    char want[64], got[sizeof f->srv.host];
    snprintf(want, sizeof want, "127.0.0.1:%d", f->srv.port);
    pthread_mutex_lock(&f->srv.lock);
    memcpy(got, f->srv.host, sizeof got);
    pthread_mutex_unlock(&f->srv.lock);
    assert_string_equal(got, want);
}

static void send_three(struct fx *f)
{
    f->send_rc[0] = ws_send(f->ws, "one", 3);
    f->send_rc[1] = ws_send(f->ws, "two", 3);
    f->send_rc[2] = ws_send(f->ws, "three", 5);
}

static int srv_saw_close(struct fx *f)
{
    return atomic_load(&f->srv.closed) > 0;
}

static int srv_got_four(struct fx *f)
{
    return srv_count(&f->srv) >= 4;
}

static int srv_got_three(struct fx *f)
{
    return srv_count(&f->srv) >= 3;
}

static void drained_is_called_once_when_the_queue_empties(void **state)
{
    struct fx *f = *state;
    f->then = send_three;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, srv_got_three, WAIT_MS);
    run_for(f, 50);
    assert_int_equal(f->send_rc[0] | f->send_rc[1] | f->send_rc[2], 0);
    assert_int_equal(f->drained, 1);
    /* again for the next batch, and for the last one before a close */
    assert_int_equal(ws_send(f->ws, "four", 4), 0);
    assert_int_equal(f->drained, 1); /* written later, from WRITEABLE */
    WAIT_FOR(f, srv_got_four, WAIT_MS);
    run_for(f, 50);
    assert_int_equal(f->drained, 2);
    assert_int_equal(ws_send(f->ws, "five", 4), 0);
    ws_close(f->ws);
    WAIT_FOR(f, is_closed, WAIT_MS);
    WAIT_FOR(f, srv_saw_close, WAIT_MS);
    assert_int_equal(f->drained, 3);
    char *s = srv_got(&f->srv, 4);
    assert_non_null(s);
    assert_string_equal(s, "five");
    free(s);
}

/* ---- closing ---- */

static void send_then_close(struct fx *f)
{
    f->send_rc[0] = ws_send(f->ws, "last words", 10);
    ws_close(f->ws);
    f->send_rc[1] = ws_send(f->ws, "too late", 8);
    f->send_rc[2] = ws_is_open(f->ws);
    ws_close(f->ws); /* twice is harmless */
}

static void close_sends_the_queue_then_status_1000_and_reports_once(void **state)
{
    struct fx *f = *state;
    f->then = send_then_close;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, is_closed, WAIT_MS);
    WAIT_FOR(f, srv_saw_close, WAIT_MS);
    run_for(f, 50);
    assert_int_equal(f->closes, 1);
    assert_int_equal(f->send_rc[0], 0);
    assert_int_equal(f->send_rc[1], ERR_IO);
    assert_int_equal(f->send_rc[2], 0);
    assert_int_equal(atomic_load(&f->srv.peer_close_code), 1000);
    assert_int_equal(srv_count(&f->srv), 1);
    char *s = srv_got(&f->srv, 0);
    assert_non_null(s);
    assert_string_equal(s, "last words");
    free(s);
}

static void close_with(struct fx *f)
{
    ws_close_code(f->ws, 4000);
}

/* Discord keeps a session closed with any status but 1000 or 1001 resumable */
static void close_code_sends_the_status_asked_for(void **state)
{
    struct fx *f = *state;
    f->then = close_with;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, is_closed, WAIT_MS);
    WAIT_FOR(f, srv_saw_close, WAIT_MS);
    assert_int_equal(f->closes, 1);
    assert_int_equal(atomic_load(&f->srv.peer_close_code), 4000);
}

static void server_close_status_reaches_on_close(void **state)
{
    struct fx *f = *state;
    srv_push(&f->srv, "hello", 5, 0, 0, 0);
    srv_push(&f->srv, NULL, 0, 0, 4000, 0);
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, is_closed, WAIT_MS);
    run_for(f, 50);
    assert_int_equal(f->opens, 1);
    assert_int_equal(f->closes, 1);
    assert_int_equal(f->close_code, 4000);
    assert_int_equal(f->nmsgs, 1);
    assert_string_equal(f->msgs[0], "hello");
}

static void abort_drops_the_connection_and_reports_once(void **state)
{
    struct fx *f = *state;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, is_open, WAIT_MS);
    ws_abort(f->ws);
    assert_int_equal(f->closes, 0); /* on_close follows, not inside */
    WAIT_FOR(f, is_closed, WAIT_MS);
    WAIT_FOR(f, srv_saw_close, WAIT_MS);
    run_for(f, 50);
    assert_int_equal(f->closes, 1);
    assert_int_equal(atomic_load(&f->srv.peer_close_code), -1); /* no close handshake */
}

static void close_before_open_reports_once(void **state)
{
    struct fx *f = *state;
    srv_start(&f->srv);
    connect_to_srv(f);
    ws_close(f->ws);
    assert_int_equal(f->closes, 0);
    WAIT_FOR(f, is_closed, WAIT_MS);
    run_for(f, 100);
    assert_int_equal(f->closes, 1);
    assert_int_equal(f->opens, 0);
}

/* A port on 127.0.0.1 that is bound but not listening, so connecting is refused. */
static int refusing_port(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &alen), 0);
    return ntohs(a.sin_port);
}

static void connect_refused_reports_exactly_once(void **state)
{
    struct fx *f = *state;
    int fd;
    int port = refusing_port(&fd);
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    int rc = ws_connect(f->loop, url, NULL, &handler, f, &f->ws, err, sizeof err);
    if (rc) {
        assert_int_equal(rc, ERR_IO);
        assert_true(err[0] != '\0');
        run_for(f, 200);
        assert_int_equal(f->closes, 0);
    } else {
        assert_true(err[0] == '\0');
        WAIT_FOR(f, is_closed, WAIT_MS);
        run_for(f, 100);
        assert_int_equal(f->closes, 1);
        assert_int_equal(f->close_code, 0);
        assert_true(f->why[0] != '\0');
    }
    assert_int_equal(f->opens, 0);
    assert_int_equal(f->nmsgs, 0);
    close(fd);
}

static void connect_rejects_a_bad_url_without_calling_handlers(void **state)
{
    struct fx *f = *state;
    char err[256] = "";
    struct ws *ws = NULL;
    assert_int_equal(
        ws_connect(f->loop, "http://127.0.0.1/", NULL, &handler, f, &ws, err, sizeof err),
        ERR_INVAL);
    assert_true(err[0] != '\0');
    assert_null(ws);
    run_for(f, 50);
    assert_int_equal(f->opens + f->closes, 0);
}

/* ---- freeing the loop ---- */

static void queue_one(struct fx *f)
{
    f->send_rc[0] = ws_send(f->ws, "unsent", 6);
}

static void count_call(void *arg)
{
    ++*(int *)arg;
}

static void loop_free_with_an_open_connection_calls_no_handler(void **state)
{
    struct fx *f = *state;
    f->then = queue_one;
    srv_start(&f->srv);
    connect_to_srv(f);
    WAIT_FOR(f, is_open, WAIT_MS);
    assert_int_equal(f->send_rc[0], 0);
    /* a second connection still connecting, and a posted call */
    char url[64], err[256];
    struct ws *second;
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/second", f->srv.port);
    assert_int_equal(ws_connect(f->loop, url, NULL, &handler, f, &second, err, sizeof err), 0);
    int n = 0;
    assert_int_equal(loop_post(f->loop, count_call, &n), 0);
    int opens = f->opens;
    loop_free(f->loop);
    f->loop = NULL;
    assert_int_equal(f->opens, opens);
    assert_int_equal(f->closes, 0);
    assert_int_equal(f->nmsgs, 0);
    assert_int_equal(n, 0);
    /* the server sees the socket go */
    int64_t until = loop_now_ms() + WAIT_MS;
    /* (the server counts the connection just after it sends the handshake reply, so it may not
     * have yet when on_open ran) */
    while ((atomic_load(&f->srv.established) == 0 ||
            atomic_load(&f->srv.closed) < atomic_load(&f->srv.established)) &&
           loop_now_ms() < until)
        nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
    assert_true(atomic_load(&f->srv.established) >= 1);
    assert_int_equal(atomic_load(&f->srv.closed), atomic_load(&f->srv.established));
}

#define NET(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    log_set_level(LOG_ERROR);
    lws_set_log_level(LLL_ERR, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_parse_accepts_ws_and_wss_urls),
        cmocka_unit_test(url_parse_rejects_bad_urls),
        cmocka_unit_test(url_parse_rejects_a_space_or_sign_before_the_port),
        cmocka_unit_test(url_parse_limits_host_and_path_length),
        NET(fragmented_300k_message_arrives_once_and_whole),
        NET(message_over_max_message_is_dropped_and_the_next_arrives),
        NET(sends_keep_their_order_through_an_echo_server),
        NET(send_fails_with_toobig_when_the_queue_is_full),
        NET(send_before_open_is_delivered_after_the_handshake),
        NET(handshake_host_header_names_the_port),
        NET(drained_is_called_once_when_the_queue_empties),
        NET(close_sends_the_queue_then_status_1000_and_reports_once),
        NET(close_code_sends_the_status_asked_for),
        NET(server_close_status_reaches_on_close),
        NET(abort_drops_the_connection_and_reports_once),
        NET(close_before_open_reports_once),
        NET(connect_refused_reports_exactly_once),
        NET(connect_rejects_a_bad_url_without_calling_handlers),
        NET(loop_free_with_an_open_connection_calls_no_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
