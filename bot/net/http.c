/* http.c - libcurl's multi interface driven by the loop (see http.h).
 *
 * curl tells us which sockets it waits on (CURLMOPT_SOCKETFUNCTION) and when it next wants to
 * be called (CURLMOPT_TIMERFUNCTION). The sockets go into an epoll set of ours, and the loop
 * watches that one descriptor for us (loop_watch_new): when it is readable, some socket of curl's
 * is ready, and epoll_wait() says which, for curl_multi_socket_action(). So everything runs on
 * the loop's thread, with no wakeups, locks or context switches between threads: before, curl ran
 * on a worker thread of its own, and handing each request over and each answer back cost a
 * third of the daemon's CPU in a burst of questions. Adopting curl's sockets into libwebsockets
 * one by one would not do: lws would shut them down when it let go of them. A kept connection
 * stays in the epoll set between its transfers (see on_socket()), so that a request and its
 * answer cost no epoll_ctl(). */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "err.h"
#include "log.h"

enum {
    MAX_BODY = 1024 * 1024,
    IDLE_HANDLES = 16,     /* easy handles kept for the next requests */
    KEEP_CONNECTIONS = 16, /* open connections kept for reuse, whatever is in flight: curl's own
                              default follows the transfers running, so a lull closed them */
    READY_MAX = 64,        /* sockets taken from the epoll set at once */
    DRIVE_ROUNDS = 4,      /* rounds of finishing and starting transfers in one turn, at most */
    HEADER_SETS = 8,       /* header lists kept for reuse: an adapter sends one or two kinds */
    HEADER_KEY_MAX = 16 * 1024, /* the header lines of a request, at most */
    FDS_MAX = 1 << 20           /* descriptors the table of the epoll set's may describe */
};

/* What the epoll set holds of a descriptor (struct http's fds[]). */
enum {
    FD_SET = 1,    /* in the set, */
    FD_IN = 2,     /* for reading */
    FD_OUT = 4,    /* and for writing */
    FD_WANTED = 8, /* curl waits on it now */
    FD_OURS = 16   /* a connection's, opened by open_socket(): closed by close_socket() */
};

struct call {
    struct call *prev, *next; /* the transfers running */
    CURL *easy;
    struct header_set *set; /* the request's header lines, shared with other calls, */
    int own_set;            /* or its own when every shared slot was in use */
    char *body;
    int want_ratelimit;
    struct http_ratelimit rate;
    struct buf resp;
    char curl_err[CURL_ERROR_SIZE];
    http_done_fn done;
    void *ctx;
    long status;
    int retry_after;
    int err;
    char errmsg[CURL_ERROR_SIZE + 64];
};

/* The header lines of requests, built once and shared: a request with the same token, content
 * type and extra headers as an earlier one reuses its curl_slist, instead of allocating the
 * lines again (curl only reads it). */
struct header_set {
    struct curl_slist *list; /* owned */
    char *key;               /* owned: the lines, each ended by a line feed; NULL: slot free */
    int users;               /* calls running with it: it is never freed or replaced meanwhile */
    uint64_t used;           /* when last taken, to replace the one unused the longest */
};

struct http {
    struct loop *loop; /* borrowed */
    CURLM *multi;
    int epfd;                 /* curl's sockets; owned by the watch */
    struct loop_watch *watch; /* the loop watching epfd */
    struct loop_timer *timer; /* when curl wants to be called next */
    unsigned char *fds;       /* owned: FD_* of each descriptor, by number */
    size_t nfds;
    struct call *active;      /* the transfers running */
    CURL *idle[IDLE_HANDLES]; /* handles of finished transfers, for the next ones */
    int nidle;
    size_t pending; /* calls whose callback has not run */
    int depth;      /* finish_transfers() frames on the stack */
    int due;        /* curl asked to be called at once (a timeout of 0) */
    int dead;       /* http_free() came from a callback: free when they return */
    struct header_set sets[HEADER_SETS];
    uint64_t uses;  /* header sets taken so far */
    struct buf key; /* the lines of the request being made */
    char *ca_file;
};

static void set_clear(struct header_set *hs)
{
    curl_slist_free_all(hs->list);
    free(hs->key);
    memset(hs, 0, sizeof *hs);
}

/* Makes hs hold the lines of key (len bytes); 0, or ERR_NOMEM with hs cleared. */
static int set_fill(struct header_set *hs, const char *key, size_t len)
{
    set_clear(hs);
    if (!(hs->key = malloc(len + 1)))
        return ERR_NOMEM;
    memcpy(hs->key, key, len);
    hs->key[len] = '\0';
    for (char *line = hs->key, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        *end = '\0';
        struct curl_slist *l = curl_slist_append(hs->list, line);
        *end = '\n';
        if (!l) {
            set_clear(hs);
            return ERR_NOMEM;
        }
        hs->list = l;
    }
    return 0;
}

/* The header set whose lines are key (len bytes), made now if no set has them: in a free slot,
 * or in place of the one unused the longest. NULL when out of memory or every slot is in use
 * (the caller then makes one of its own). */
static struct header_set *take_set(struct http *h, const char *key, size_t len)
{
    struct header_set *spare = NULL;
    for (int i = 0; i < HEADER_SETS; i++) {
        struct header_set *hs = &h->sets[i];
        if (hs->key && strlen(hs->key) == len && memcmp(hs->key, key, len) == 0) {
            hs->users++;
            hs->used = ++h->uses;
            return hs;
        }
        if (!hs->users && (!spare || !hs->key || (spare->key && hs->used < spare->used)))
            spare = hs;
    }
    if (!spare || set_fill(spare, key, len))
        return NULL;
    spare->users = 1;
    spare->used = ++h->uses;
    return spare;
}

static void call_free(struct call *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    if (c->set && c->own_set) {
        set_clear(c->set);
        free(c->set);
    } else if (c->set) {
        c->set->users--;
    }
    free(c->body);
    buf_free(&c->resp);
    free(c);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    return buf_append(&c->resp, data, size * n) ? 0 : size * n;
}

/* A handle from the idle ones (reset by curl_easy_reset: no options, connections kept in the
 * multi handle's pool), or a new one: a request then costs no allocation of curl's state. */
static CURL *take_handle(struct http *h)
{
    if (h->nidle > 0) {
        CURL *e = h->idle[--h->nidle];
        curl_easy_reset(e);
        return e;
    }
    return curl_easy_init();
}

static void give_handle(struct http *h, CURL *e)
{
    if (!e)
        return;
    if (h->nidle < IDLE_HANDLES)
        h->idle[h->nidle++] = e;
    else
        curl_easy_cleanup(e);
}

static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a);
static int close_socket(void *arg, curl_socket_t fd);

/* Makes c's transfer and hands it to curl; 0, or ERR_NOMEM. */
static int start(struct http *h, struct call *c, const struct http_request *req)
{
    c->easy = take_handle(h);
    if (!c->easy)
        return ERR_NOMEM;
    CURL *e = c->easy;
    int ok = curl_easy_setopt(e, CURLOPT_URL, req->url) == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (req->body || (req->method && strcmp(req->method, "POST") == 0)) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (req->method && strcmp(req->method, "POST") != 0 && strcmp(req->method, "GET") != 0)
        ok = ok && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method) == CURLE_OK;
    long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 30000;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->set->list);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000);
    ok = ok && curl_easy_setopt(e, CURLOPT_USERAGENT, "planbot") == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, h);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, h);
    if (h->ca_file) { /* instead of the system's authorities, not as well */
        ok = ok && curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file) == CURLE_OK;
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }
    if (!ok || curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        give_handle(h, e);
        c->easy = NULL;
        return ERR_NOMEM;
    }
    c->prev = NULL;
    c->next = h->active;
    if (h->active)
        h->active->prev = c;
    h->active = c;
    return 0;
}

static void unlink_call(struct http *h, struct call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        h->active = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* The value of the response header name, or NULL. */
static const char *header(CURL *e, const char *name)
{
    struct curl_header *hd;
    return curl_easy_header(e, name, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK ? hd->value : NULL;
}

/* A header's number, or -1 when it is absent or not a number. */
static double header_number(CURL *e, const char *name)
{
    const char *v = header(e, name);
    if (!v)
        return -1;
    char *end;
    double d = strtod(v, &end);
    return end != v && d >= 0 && d < 1e15 ? d : -1;
}

static void read_ratelimit(CURL *e, struct http_ratelimit *r)
{
    r->limit = (long)header_number(e, "X-RateLimit-Limit");
    r->remaining = (long)header_number(e, "X-RateLimit-Remaining");
    r->reset = header_number(e, "X-RateLimit-Reset");
    r->reset_after = header_number(e, "X-RateLimit-Reset-After");
    const char *g = header(e, "X-RateLimit-Global");
    r->global = g && (strcmp(g, "true") == 0 || strcmp(g, "1") == 0);
    const char *b = header(e, "X-RateLimit-Bucket");
    if (!b || (size_t)snprintf(r->bucket, sizeof r->bucket, "%s", b) >= sizeof r->bucket)
        r->bucket[0] = '\0'; /* too long to be a bucket id: none */
}

static void no_ratelimit(struct http_ratelimit *r)
{
    memset(r, 0, sizeof *r);
    r->limit = r->remaining = -1;
    r->reset = r->reset_after = -1;
}

/* Fills in the outcome of a finished transfer. Retry-After is looked for only where it means
 * something (a 429, or a 5xx such as 503), which spares every other answer a header search. */
static void outcome(struct call *c, CURLcode res)
{
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
    c->retry_after = -1;
    const char *ra = c->status == 429 || c->status >= 500 ? header(c->easy, "Retry-After") : NULL;
    if (ra) {
        char *end;
        long secs = strtol(ra, &end, 10);
        if (end != ra && secs >= 0)
            c->retry_after = secs > 3600 ? 3600 : (int)secs;
        else
            c->retry_after = 1; /* an HTTP date or nonsense: wait a little anyway */
    }
    no_ratelimit(&c->rate);
    if (c->want_ratelimit && res == CURLE_OK)
        read_ratelimit(c->easy, &c->rate);
    if (res == CURLE_WRITE_ERROR && c->resp.len + CURL_MAX_WRITE_SIZE > c->resp.max) {
        c->err = ERR_TOOBIG;
        snprintf(c->errmsg, sizeof c->errmsg, "the answer is larger than %d bytes", MAX_BODY);
    } else if (res != CURLE_OK) {
        c->err = ERR_IO;
        c->status = 0;
        snprintf(c->errmsg, sizeof c->errmsg, "%s",
                 c->curl_err[0] ? c->curl_err : curl_easy_strerror(res));
    }
}

static void really_free(struct http *h);

/* Hands the transfers curl has finished to their owners, oldest first, then starts at once what
 * their callbacks asked for: the next post of an outbox goes out in this turn of the loop, not in
 * the next (which would cost a wakeup a request). The transfers are taken out of curl first, so
 * a callback may start new requests, and even free h (then freed on return). */
static void finish_transfers(struct http *h)
{
    for (int round = 0; round < DRIVE_ROUNDS; round++) {
        struct call *done = NULL, **tail = &done;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(h->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct call *c;
            CURLcode res = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            outcome(c, res);
            curl_multi_remove_handle(h->multi, c->easy);
            give_handle(h, c->easy);
            c->easy = NULL;
            unlink_call(h, c);
            *tail = c;
            tail = &c->next;
        }
        h->depth++;
        while (done) {
            struct call *c = done;
            done = c->next;
            if (!h->dead) {
                struct http_response r = { c->status,   c->retry_after, c->rate,  buf_str(&c->resp),
                                           c->resp.len, c->err,         c->errmsg };
                h->pending--;
                c->done(c->ctx, &r);
            }
            call_free(c);
        }
        if (--h->depth > 0)
            return; /* the outer call goes on */
        if (h->dead) {
            really_free(h);
            return;
        }
        if (!h->due)
            return;
        h->due = 0; /* curl wants to be called now: new transfers to start */
        loop_timer_cancel(h->timer);
        int running;
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    if (h->due) /* still more: the loop's next turn */
        loop_timer_set(h->timer, 0);
}

/* What the epoll set holds of descriptor fd, growing the table to hold fd; NULL when out of
 * memory or fd is absurd. */
static unsigned char *fd_state(struct http *h, curl_socket_t fd)
{
    if (fd < 0 || fd >= FDS_MAX)
        return NULL;
    if ((size_t)fd >= h->nfds) {
        size_t n = h->nfds ? h->nfds : 64;
        while (n <= (size_t)fd)
            n *= 2;
        unsigned char *t = realloc(h->fds, n);
        if (!t)
            return NULL;
        memset(t + h->nfds, 0, n - h->nfds);
        h->fds = t;
        h->nfds = n;
    }
    return &h->fds[fd];
}

/* Puts fd in the epoll set for events, or takes it out (events 0); 0 or -1. */
static int watch_fd(struct http *h, curl_socket_t fd, unsigned char *st, unsigned events)
{
    unsigned have = *st & (FD_IN | FD_OUT);
    if ((*st & FD_SET) && have == events)
        return 0;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = (events & FD_IN ? EPOLLIN : 0u) | (events & FD_OUT ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    int rc;
    if (!events)
        rc = epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
    else if (*st & FD_SET)
        rc = epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev);
    else if ((rc = epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev)) != 0 && errno == EEXIST)
        rc = epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev); /* never: the table is kept exact */
    *st =
        (unsigned char)((*st & ~(FD_SET | FD_IN | FD_OUT)) | (events && !rc ? FD_SET | events : 0));
    return events && rc ? -1 : 0;
}

/* CURLMOPT_SOCKETFUNCTION: what curl waits for on socket s, into the epoll set.
 *
 * A connection's socket stays in the set, for reading, when curl lets go of it between
 * transfers (CURL_POLL_REMOVE of a kept connection): the next transfer on it wants the same, so
 * a request and its answer cost no epoll_ctl() at all. If it becomes readable meanwhile (the
 * server closed it), sockets_ready() takes it out. This needs to know when curl closes its
 * sockets, since a closed descriptor leaves the set by itself and its number comes back for
 * another: curl opens and closes its connections' sockets through us (open_socket(),
 * close_socket()). Any other socket, such as the threaded resolver's, leaves the set when curl
 * lets go of it. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)socketp;
    struct http *h = userp;
    unsigned char *st = fd_state(h, s);
    if (!st) {
        log_msg(LOG_ERROR, "http: cannot watch a socket of libcurl's (fd %d): out of memory",
                (int)s);
        return -1; /* curl fails the transfer */
    }
    if (what == CURL_POLL_REMOVE) {
        *st &= (unsigned char)~FD_WANTED;
        if (!(*st & FD_OURS))
            watch_fd(h, s, st, 0);
        return 0;
    }
    *st |= FD_WANTED;
    if (watch_fd(h, s, st,
                 (what & CURL_POLL_IN ? FD_IN : 0u) | (what & CURL_POLL_OUT ? FD_OUT : 0u))) {
        log_msg(LOG_ERROR, "http: cannot watch a socket of libcurl's (fd %d): %s", (int)s,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection's socket, which on_socket() may keep watching. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    struct http *h = arg;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    unsigned char *st = fd >= 0 ? fd_state(h, fd) : NULL;
    if (fd >= 0 && !st) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    if (st)
        *st = FD_OURS;
    return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the end of a socket from open_socket(). */
static int close_socket(void *arg, curl_socket_t fd)
{
    struct http *h = arg;
    unsigned char *st = fd_state(h, fd);
    if (st) {
        watch_fd(h, fd, st, 0);
        *st = 0;
    }
    return close(fd);
}

/* CURLMOPT_TIMERFUNCTION: call curl again in ms (0: at the loop's next turn), or never (-1). */
static int on_timer(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    struct http *h = userp;
    h->due = ms == 0; /* http_call() or finish_transfers() may get there first, in this turn */
    if (ms < 0)
        loop_timer_cancel(h->timer);
    else
        loop_timer_set(h->timer, ms);
    return 0;
}

static void timed_out(void *arg)
{
    struct http *h = arg;
    h->due = 0;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    finish_transfers(h);
}

/* The epoll set is readable: tells curl which of its sockets are ready. */
static void sockets_ready(void *arg)
{
    struct http *h = arg;
    struct epoll_event ev[READY_MAX];
    int n = epoll_wait(h->epfd, ev, READY_MAX, 0);
    for (int i = 0; i < n; i++) {
        int fd = ev[i].data.fd;
        unsigned char *st = fd_state(h, fd);
        if (st && !(*st & FD_WANTED)) { /* a kept connection closed by the server, say */
            watch_fd(h, fd, st, 0);
            continue;
        }
        int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        int running;
        curl_multi_socket_action(h->multi, fd, flags, &running);
    }
    finish_transfers(h);
}

int http_new(struct http **out, struct loop *loop, const char *ca_file, char *err, size_t errlen)
{
    struct http *h = calloc(1, sizeof *h);
    if (!h)
        goto nomem;
    h->loop = loop;
    h->epfd = -1;
    buf_init(&h->key, HEADER_KEY_MAX);
    if ((ca_file && !(h->ca_file = strdup(ca_file))) || !(h->multi = curl_multi_init()) ||
        !(h->timer = loop_timer_new(loop, timed_out, h)))
        goto nomem;
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (h->epfd < 0) {
        snprintf(err, errlen, "cannot make an epoll set for libcurl's sockets");
        really_free(h);
        return ERR_IO;
    }
    h->watch = loop_watch_new(loop, h->epfd, sockets_ready, h); /* owns epfd from here on */
    if (!h->watch) {
        h->epfd = -1;
        goto nomem;
    }
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)KEEP_CONNECTIONS);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    *out = h;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    really_free(h);
    return ERR_NOMEM;
}

/* Frees h and what it holds; transfers still running are dropped without their callbacks. */
static void really_free(struct http *h)
{
    if (!h)
        return;
    while (h->active) {
        struct call *c = h->active;
        unlink_call(h, c);
        curl_multi_remove_handle(h->multi, c->easy);
        call_free(c);
    }
    while (h->nidle > 0)
        curl_easy_cleanup(h->idle[--h->nidle]);
    if (h->multi)
        curl_multi_cleanup(h->multi); /* closes the connections, telling on_socket */
    loop_watch_free(h->watch);        /* closes epfd */
    if (!h->watch && h->epfd >= 0)
        close(h->epfd);
    loop_timer_free(h->timer);
    for (int i = 0; i < HEADER_SETS; i++)
        set_clear(&h->sets[i]);
    buf_free(&h->key);
    free(h->fds);
    free(h->ca_file);
    free(h);
}

void http_free(struct http *h)
{
    if (!h)
        return;
    h->dead = 1;
    if (h->depth == 0)
        really_free(h);
}

/* Whether s is a method name: 1 to 15 upper-case letters. */
static int is_method(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

/* Whether s is an authorization scheme: 1 to 15 letters. */
static int is_scheme(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return 0;
    return 1;
}

/* Whether s holds a line break, which would smuggle another header line in. */
static int breaks_line(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

/* The request's header lines, each ended by a line feed, into key. 0 or ERR_TOOBIG. */
static int header_lines(const struct http_request *req, struct buf *key)
{
    buf_reset(key);
    int rc = 0;
    if (req->bearer) /* never logged; the token also lives in the caller's configuration */
        rc = buf_puts(key, "Authorization: ") ||
             buf_puts(key, req->auth_scheme ? req->auth_scheme : "Bearer") || buf_putc(key, ' ') ||
             buf_puts(key, req->bearer) || buf_putc(key, '\n');
    if (!rc && req->content_type)
        rc = buf_puts(key, "Content-Type: ") || buf_puts(key, req->content_type) ||
             buf_putc(key, '\n');
    for (const char *const *hl = req->headers; !rc && hl && *hl; hl++)
        rc = buf_puts(key, *hl) || buf_putc(key, '\n');
    if (!rc) /* no "Expect: 100-continue" round trip for larger bodies */
        rc = buf_puts(key, "Expect:\n");
    return rc ? ERR_TOOBIG : 0;
}

int http_call(struct http *h, const struct http_request *req, http_done_fn done, void *ctx)
{
    if (h->dead || (req->method && !is_method(req->method)) || breaks_line(req->bearer) ||
        breaks_line(req->content_type) || (req->auth_scheme && !is_scheme(req->auth_scheme)))
        return ERR_INVAL;
    for (const char *const *hl = req->headers; hl && *hl; hl++)
        if (breaks_line(*hl) || !strchr(*hl, ':'))
            return ERR_INVAL;
    if (header_lines(req, &h->key))
        return ERR_INVAL;
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->done = done;
    c->ctx = ctx;
    c->want_ratelimit = req->want_ratelimit;
    buf_init(&c->resp, MAX_BODY);
    c->set = take_set(h, h->key.data, h->key.len);
    if (!c->set && (c->set = calloc(1, sizeof *c->set)) != NULL) {
        c->own_set = 1;
        if (set_fill(c->set, h->key.data, h->key.len)) {
            free(c->set);
            c->set = NULL;
        }
    }
    int ok = c->set != NULL;
    if (ok && req->body) { /* curl reads it while the transfer runs: a copy of our own */
        c->body = malloc(req->body_len + 1);
        ok = c->body != NULL;
        if (ok) {
            memcpy(c->body, req->body, req->body_len);
            c->body[req->body_len] = '\0';
        }
    }
    if (!ok || start(h, c, req)) {
        call_free(c);
        return ERR_NOMEM;
    }
    h->pending++;
    if (h->depth == 0 && h->due) {
        /* start it now, not at the loop's next turn: the request leaves in this one. Only curl
         * runs here; what finished meanwhile is handed over by the timer, never from this call */
        h->due = 0;
        int running;
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        if (running < (int)h->pending)
            loop_timer_set(h->timer, 0);
    }
    return 0;
}

size_t http_pending(const struct http *h)
{
    return h->pending;
}
