/* loop.c - the event loop on libwebsockets (see loop.h).
 *
 * lws calls one protocol callback for every connection; each transport's connection hangs off
 * its wsi as the opaque user data, a struct loop_conn first, which the transport clears when it
 * reports the connection closed, so callbacks that lws makes afterwards find nothing and do
 * nothing. Posted calls sit in a locked list that the LWS_CALLBACK_EVENT_WAIT_CANCELLED callback
 * (raised by lws_cancel_service(), the one thread-safe lws call) drains on the loop's thread. */
#include "loop.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "log.h"

enum {
    TICK_US = 100 * 1000,
    BEFORE_WAIT_ROUNDS = 4, /* calls of the before-wait hook in a row, at most */
    KEEPALIVES = 8,         /* kinds of keepalive policy kept; eight are plenty */
    READ_BYTES = 64 * 1024, /* read from a socket at once: lws's 4 KiB default held two or three
                               Slack events, so each turn of the loop (a commit of their records,
                               a write of their acknowledgements) served only those */
    BEHIND_US = 200,        /* input this soon after a turn began was already waiting, */
    BEHIND_TURNS = 2,       /* in this many turns in a row: the loop is behind (loop_set_linger);
                               one is not enough: a reply's own echo comes right after it */
    LINGER_MAX_US = 100000
};

struct post {
    struct post *next;
    void (*fn)(void *arg);
    void *arg;
};

struct loop {
    struct lws_context *ctx;
    pthread_mutex_t lock;                /* guards posts */
    struct post *posts;                  /* posted calls, newest first */
    struct post *running;                /* the batch run_posts() is running, oldest first */
    struct loop_conn *conns;             /* the transports' connections, for loop_free */
    lws_sorted_usec_list_t tick;         /* wakes lws_service so done() is checked */
    lws_retry_bo_t policies[KEEPALIVES]; /* kept as long as lws may read them */
    int npolicies;
    int destroying;                /* loop_free: call no handlers */
    char *ca_file;                 /* owned: the CA bundle trusted instead of the system's */
    int (*before_wait)(void *arg); /* loop_before_wait() */
    void *before_wait_arg;
    struct loop_timer *timers; /* every timer made on the loop, armed or not */
    uint64_t turns;            /* lws_service() calls so far */
    int linger_us;             /* loop_set_linger() */
    int64_t turn_start;        /* when the turn's lws_service() began (lws_now_usecs) */
    int64_t first_input;       /* when its first input was handed over; 0: none yet */
    int behind;                /* turns in a row whose first input was waiting as they began */
};

struct loop_timer {
    lws_sorted_usec_list_t sul; /* first: the lws callback gets a pointer to it */
    struct loop *loop;
    struct loop_timer *prev, *next; /* the loop's timers */
    void (*fn)(void *arg);
    void *arg;
    int armed;
};

/* The last "SSL error: ..." line lws logged: its CONNECTION_ERROR string for a refused
 * certificate is an opaque "connect SSL err 1: ...", the reason comes only as a log line. lws
 * logs on the loop's thread, the only one that reads this. */
static char tls_reason[160];

static void emit_lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    const char *ssl = strstr(line, "SSL error: ");
    if (ssl)
        snprintf(tls_reason, sizeof tls_reason, "%.*s", (int)(n - (size_t)(ssl - line)), ssl);
    /* lws' own lines are detail: what matters is reported by the connections themselves */
    log_msg(LOG_DEBUG, "lws %s: %.*s", level == LLL_ERR ? "error" : "warning", (int)n, line);
}

void loop_take_tls_reason(char *out, size_t len)
{
    snprintf(out, len, "%s", tls_reason);
    tls_reason[0] = '\0';
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct loop *l = lws_container_of(sul, struct loop, tick);
    lws_sul_schedule(l->ctx, 0, &l->tick, tick, TICK_US);
}

static void run_posts(struct loop *l)
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
    /* one at a time, so that loop_unpost() can still drop the calls not yet run */
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

/* Whether dir holds an authority under OpenSSL's hashed name (8 hex digits, '.', a digit). */
static int hashed(const char *dir)
{
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        found = n == 10 && strspn(e->d_name, "0123456789abcdef") == 8 && e->d_name[8] == '.' &&
                e->d_name[9] >= '0' && e->d_name[9] <= '9';
    }
    if (d)
        closedir(d);
    return found;
}

int loop_trust_system_cas(void *ssl_ctx)
{
    SSL_CTX *ctx = ssl_ctx;
    const char *file = getenv(X509_get_default_cert_file_env()); /* SSL_CERT_FILE */
    const char *dir = getenv(X509_get_default_cert_dir_env());   /* SSL_CERT_DIR */
    if (!dir || !*dir)
        dir = X509_get_default_cert_dir();
    int ok = 1;
    if (file && *file) /* a bundle the environment names is read whole, as OpenSSL would */
        ok = SSL_CTX_load_verify_file(ctx, file) == 1;
    if (ok && hashed(dir))
        ok = SSL_CTX_load_verify_dir(ctx, dir) == 1;
    else if (ok && !(file && *file)) /* no hashed directory: the default bundle, whole */
        ok = SSL_CTX_load_verify_file(ctx, X509_get_default_cert_file()) == 1;
    return ok ? 0 : ERR_IO;
}

/* The one callback: posted calls, then each connection's events to its transport. */
static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS) {
        /* the client context, once, at the start: the system's authorities, unless the
         * configuration named its own (lws loaded that file itself) */
        struct loop *l = lws_context_user(lws_get_context(wsi));
        if (l && !l->ca_file && loop_trust_system_cas(user))
            log_msg(LOG_WARN,
                    "cannot use the system's certificate authorities (%s): no TLS "
                    "certificate can be verified",
                    X509_get_default_cert_dir());
        return 0;
    }
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        struct loop *l = lws_context_user(lws_get_context(wsi));
        if (l)
            run_posts(l);
        return 0;
    }
    struct loop_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (c && (reason == LWS_CALLBACK_CLIENT_RECEIVE || reason == LWS_CALLBACK_RAW_RX ||
              reason == LWS_CALLBACK_RAW_RX_FILE)) {
        struct loop *l = lws_context_user(lws_get_context(wsi));
        if (l && !l->first_input) /* input handed over: when, for loop_set_linger() */
            l->first_input = lws_now_usecs();
    }
    if (!c) /* its connection was reported closed: one that opens now has no owner */
        return reason == LWS_CALLBACK_CLIENT_ESTABLISHED ? -1 : 0;
    return c->ops->event(c, wsi, (int)reason, in, len);
}

static const struct lws_protocols protocols[] = {
    { "planbot", callback, 0, READ_BYTES, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

const char *loop_protocol(void)
{
    return protocols[0].name;
}

int loop_new(struct loop **out, const char *ca_file, char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof *l);
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
    /* lws would read the system's whole bundle of authorities here (about 140 certificates:
     * 87% of planbot's start, 60 ms, seconds under valgrind); the callback points the client
     * context at the hashed directory instead, where OpenSSL reads one only when a chain needs
     * it. A CA file of the configuration's replaces the system's. */
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.client_ssl_ca_filepath = ca_file;
    info.user = l;
    if (ca_file && !(l->ca_file = strdup(ca_file))) {
        snprintf(err, errlen, "out of memory");
        pthread_mutex_destroy(&l->lock);
        free(l);
        return ERR_NOMEM;
    }
    info.gid = -1;
    info.uid = -1;
    l->ctx = lws_create_context(&info);
    if (!l->ctx) {
        snprintf(err, errlen, "cannot start the event loop (libwebsockets)%s%s",
                 ca_file ? "; check the CA file " : "", ca_file ? ca_file : "");
        pthread_mutex_destroy(&l->lock);
        free(l->ca_file);
        free(l);
        return ERR_IO;
    }
    lws_sul_schedule(l->ctx, 0, &l->tick, tick, TICK_US);
    *out = l;
    return 0;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    l->destroying = 1;
    while (l->conns) {
        struct loop_conn *c = l->conns;
        loop_detach(c);
        c->ops->destroy(c);
    }
    lws_sul_cancel(&l->tick);
    lws_context_destroy(l->ctx);
    for (struct post *p = l->posts, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    pthread_mutex_destroy(&l->lock);
    free(l->ca_file);
    free(l);
}

void loop_before_wait(struct loop *l, int (*fn)(void *arg), void *arg)
{
    l->before_wait = fn;
    l->before_wait_arg = arg;
}

/* Sleeps through the last part of a millisecond before the next timer, when there is one.
 *
 * lws 4.1 waits in poll() for the time to its next timer cut down to whole milliseconds: in the
 * last millisecond before a timer, poll() is told 0 and returns at once, and lws_service() turns
 * again and again until the timer is due: 1,800 turns a second on an idle IRC connection, and
 * 43,185 turns for 20 timers of 2 ms in test_loop. A sleep of that less-than-a-millisecond ends
 * it; what arrives meanwhile waits as long. */
static void sleep_to_next_timer(struct loop *l)
{
    lws_usec_t now = lws_now_usecs(), next = l->tick.us;
    for (const struct loop_timer *t = l->timers; t; t = t->next)
        if (t->armed && t->sul.us < next)
            next = t->sul.us;
    if (next > now && next - now < LWS_US_PER_MS) {
        struct timespec ts = { 0, (long)(next - now) * 1000 };
        nanosleep(&ts, NULL);
    }
}

void loop_set_linger(struct loop *l, int us)
{
    l->linger_us = us < 0 ? 0 : us > LINGER_MAX_US ? LINGER_MAX_US : us;
}

/* Waits the linger when the last turns found their input already waiting: what arrives meanwhile
 * is then served by one turn, not by a turn each (one poll(), one commit of records, one write of
 * acknowledgements, one call into curl). A loop that keeps up waits for nothing. */
static void linger(struct loop *l)
{
    if (l->behind >= BEHIND_TURNS && l->linger_us > 0) {
        struct timespec ts = { 0, (long)l->linger_us * 1000 };
        nanosleep(&ts, NULL);
    }
}

void loop_run(struct loop *l, int (*done)(void *arg), void *arg)
{
    while (!done(arg)) {
        for (int i = 0; i < BEFORE_WAIT_ROUNDS && l->before_wait; i++)
            if (!l->before_wait(l->before_wait_arg))
                break;
        linger(l);
        sleep_to_next_timer(l);
        l->turns++;
        l->first_input = 0;
        l->turn_start = lws_now_usecs();
        if (lws_service(l->ctx, 0) < 0)
            break;
        if (l->first_input && l->first_input - l->turn_start < BEHIND_US)
            l->behind++;
        else
            l->behind = 0;
    }
}

int loop_post(struct loop *l, void (*fn)(void *arg), void *arg)
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

void loop_unpost(struct loop *l, void *arg)
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

uint64_t loop_turns(const struct loop *l)
{
    return l->turns;
}

int64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- timers ---- */

static void timer_fired(lws_sorted_usec_list_t *sul)
{
    struct loop_timer *t = lws_container_of(sul, struct loop_timer, sul);
    t->armed = 0;
    t->fn(t->arg);
}

struct loop_timer *loop_timer_new(struct loop *l, void (*fn)(void *arg), void *arg)
{
    struct loop_timer *t = calloc(1, sizeof *t);
    if (t) {
        t->loop = l;
        t->fn = fn;
        t->arg = arg;
        t->next = l->timers;
        if (l->timers)
            l->timers->prev = t;
        l->timers = t;
    }
    return t;
}

void loop_timer_set(struct loop_timer *t, int64_t ms)
{
    t->armed = 1;
    lws_sul_schedule(t->loop->ctx, 0, &t->sul, timer_fired, (lws_usec_t)(ms < 0 ? 0 : ms) * 1000);
}

void loop_timer_cancel(struct loop_timer *t)
{
    if (t->armed)
        lws_sul_cancel(&t->sul);
    t->armed = 0;
}

int loop_timer_armed(const struct loop_timer *t)
{
    return t->armed;
}

void loop_timer_free(struct loop_timer *t)
{
    if (!t)
        return;
    loop_timer_cancel(t);
    if (t->prev)
        t->prev->next = t->next;
    else
        t->loop->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    free(t);
}

/* ---- watched descriptors ---- */

struct loop_watch {
    struct loop_conn conn; /* first: the wsi's opaque user data */
    struct lws *wsi;       /* NULL once lws has closed it */
    void (*fn)(void *arg);
    void *arg;
};

static int watch_event(struct loop_conn *c, struct lws *wsi, int reason, void *in, size_t len)
{
    (void)in;
    (void)len;
    struct loop_watch *w = (struct loop_watch *)c;
    if (reason == LWS_CALLBACK_RAW_RX_FILE) {
        w->fn(w->arg);
    } else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
        lws_set_opaque_user_data(wsi, NULL);
        w->wsi = NULL;
    }
    return 0;
}

/* loop_free(): the watch goes; lws closes the descriptor with the context. */
static void watch_destroy(struct loop_conn *c)
{
    struct loop_watch *w = (struct loop_watch *)c;
    if (w->wsi)
        lws_set_opaque_user_data(w->wsi, NULL);
    free(w);
}

static const struct loop_conn_ops watch_ops = { watch_event, watch_destroy };

struct loop_watch *loop_watch_new(struct loop *l, int fd, void (*fn)(void *arg), void *arg)
{
    struct loop_watch *w = calloc(1, sizeof *w);
    struct lws_vhost *vh = lws_get_vhost_by_name(l->ctx, "default");
    if (!w || !vh) {
        free(w);
        close(fd);
        return NULL;
    }
    w->conn.ops = &watch_ops;
    w->fn = fn;
    w->arg = arg;
    lws_adopt_desc_t ad;
    memset(&ad, 0, sizeof ad);
    ad.vh = vh;
    ad.type = LWS_ADOPT_RAW_FILE_DESC;
    ad.fd.filefd = fd;
    ad.vh_prot_name = protocols[0].name;
    ad.opaque = &w->conn;
    w->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
    if (!w->wsi) { /* lws 4.1 closes only sockets it fails to adopt, not files */
        free(w);
        close(fd);
        return NULL;
    }
    loop_attach(l, &w->conn);
    return w;
}

void loop_watch_free(struct loop_watch *w)
{
    if (!w)
        return;
    if (w->wsi) { /* lws closes it at its next turn; its callbacks find no owner meanwhile */
        lws_set_opaque_user_data(w->wsi, NULL);
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    loop_detach(&w->conn);
    free(w);
}

/* ---- for transports ---- */

struct lws_context *loop_lws(struct loop *l)
{
    return l->ctx;
}

const char *loop_ca_file(const struct loop *l)
{
    return l->ca_file;
}

int loop_destroying(const struct loop *l)
{
    return l->destroying;
}

void loop_attach(struct loop *l, struct loop_conn *c)
{
    c->loop = l;
    c->prev = NULL;
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
}

void loop_detach(struct loop_conn *c)
{
    struct loop *l = c->loop;
    if (!l || (!c->prev && l->conns != c))
        return; /* not attached */
    if (c->prev)
        c->prev->next = c->next;
    else if (l->conns == c)
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

const struct lws_retry_bo *loop_keepalive(struct loop *l, int ping_secs, int hangup_secs)
{
    for (int i = 0; i < l->npolicies; i++)
        if (l->policies[i].secs_since_valid_ping == ping_secs &&
            l->policies[i].secs_since_valid_hangup == hangup_secs)
            return &l->policies[i];
    int n = l->npolicies < KEEPALIVES ? l->npolicies++ : KEEPALIVES - 1; /* else reuse one */
    l->policies[n].secs_since_valid_ping = (uint16_t)ping_secs;
    l->policies[n].secs_since_valid_hangup = (uint16_t)hangup_secs;
    return &l->policies[n];
}
