/* http.c - libcurl's multi interface on a worker thread (see http.h).
 *
 * A worker thread rather than curl driven by the lws loop: lws 4.1 as Debian builds it has no
 * foreign-loop hooks, and a thread that only sleeps in curl_multi_poll() is simpler than
 * mirroring curl's sockets into lws. The two threads share nothing but two locked lists. */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "err.h"
#include "log.h"

enum {
    MAX_BODY = 1024 * 1024,
    IDLE_HANDLES = 16,    /* easy handles kept for the next requests (the worker's) */
    KEEP_CONNECTIONS = 16 /* open connections kept for reuse, whatever is in flight: curl's own
                             default follows the transfers running, so a lull closed them */
};

struct call {
    struct call *next;
    struct http *h;
    CURL *easy;
    struct curl_slist *headers;
    char *url, *body;
    char method[16]; /* "": POST with a body, GET without */
    size_t body_len;
    int want_ratelimit;
    struct http_ratelimit rate;
    long timeout_ms;
    struct buf resp;
    char curl_err[CURL_ERROR_SIZE];
    http_done_fn done;
    http_resolved_fn resolved; /* a name to resolve rather than a request */
    void *ctx;
    char addr[INET6_ADDRSTRLEN];
    long status;
    int retry_after;
    int err;
    char errmsg[CURL_ERROR_SIZE + 64];
};

struct http {
    struct loop *loop; /* borrowed */
    pthread_t thread;
    pthread_mutex_t lock; /* guards incoming, finished, quit, posted */
    CURLM *multi;
    struct call *incoming;    /* waiting for the worker, oldest first */
    struct call *finished;    /* waiting for the loop, oldest first */
    struct call *active;      /* the worker's transfers */
    CURL *idle[IDLE_HANDLES]; /* the worker's: handles of finished transfers, reset */
    int nidle;
    int quit, posted;
    int polling;    /* the worker is in (or about to enter) curl_multi_poll: wake it for news */
    size_t pending; /* loop thread only */
    char *ca_file;
};

static void call_free(struct call *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c->body);
    buf_free(&c->resp);
    free(c);
}

static void push(struct call **list, struct call *c)
{
    c->next = NULL;
    while (*list)
        list = &(*list)->next;
    *list = c;
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

static int start(struct http *h, struct call *c)
{
    c->easy = take_handle(h);
    if (!c->easy)
        return ERR_NOMEM;
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (c->body || strcmp(c->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (c->method[0] && strcmp(c->method, "POST") != 0 && strcmp(c->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 10000 ? c->timeout_ms : 10000);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "planbot");
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    if (h->ca_file) { /* instead of the system's authorities, not as well */
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }
    return curl_multi_add_handle(h->multi, e) == CURLM_OK ? 0 : ERR_NOMEM;
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

/* On the loop's thread: hands finished calls to their owners. */
static void drain(void *arg)
{
    struct http *h = arg;
    pthread_mutex_lock(&h->lock);
    struct call *c = h->finished;
    h->finished = NULL;
    h->posted = 0;
    pthread_mutex_unlock(&h->lock);
    while (c) {
        struct call *next = c->next;
        struct http_response r = { c->status,   c->retry_after, c->rate,  buf_str(&c->resp),
                                   c->resp.len, c->err,         c->errmsg };
        h->pending--;
        if (c->resolved)
            c->resolved(c->ctx, c->err, c->addr, c->errmsg);
        else
            c->done(c->ctx, &r);
        call_free(c);
        c = next;
    }
}

/* Hands a finished call to the loop's thread. */
static void hand_over(struct http *h, struct call *c)
{
    pthread_mutex_lock(&h->lock);
    push(&h->finished, c);
    int post = !h->posted;
    h->posted = 1;
    pthread_mutex_unlock(&h->lock);
    if (post && loop_post(h->loop, drain, h)) {
        pthread_mutex_lock(&h->lock);
        h->posted = 0; /* out of memory: the worker tries again */
        pthread_mutex_unlock(&h->lock);
    }
}

/* On the worker: looks a host name up (getaddrinfo blocks, so never on the loop's thread). */
static void resolve(struct http *h, struct call *c)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(c->url, NULL, &hints, &res);
    if (rc) {
        c->err = ERR_IO;
        snprintf(c->errmsg, sizeof c->errmsg, "cannot look up %s: %s", c->url, gai_strerror(rc));
    } else {
        const struct addrinfo *a = res;
        for (const struct addrinfo *i = res; i; i = i->ai_next)
            if (i->ai_family == AF_INET) { /* IPv4 first: it is the more often routable */
                a = i;
                break;
            }
        const void *bin = a->ai_family == AF_INET
                              ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                              : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        inet_ntop(a->ai_family, bin, c->addr, sizeof c->addr);
        freeaddrinfo(res);
    }
    hand_over(h, c);
}

static void finish(struct http *h, struct call *c)
{
    for (struct call **pp = &h->active; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    curl_multi_remove_handle(h->multi, c->easy);
    give_handle(h, c->easy);
    c->easy = NULL;
    hand_over(h, c);
}

static void *worker(void *arg)
{
    struct http *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->lock);
        int quit = h->quit;
        struct call *c = h->incoming;
        h->incoming = NULL;
        pthread_mutex_unlock(&h->lock);
        if (quit) {
            while (c) {
                struct call *next = c->next;
                call_free(c);
                c = next;
            }
            break;
        }
        while (c) {
            struct call *next = c->next;
            if (c->resolved) {
                resolve(h, c);
                c = next;
                continue;
            }
            c->next = h->active;
            h->active = c;
            if (start(h, c)) {
                c->err = ERR_NOMEM;
                snprintf(c->errmsg, sizeof c->errmsg, "cannot start the request: out of memory");
                finish(h, c);
            }
            c = next;
        }
        int running;
        curl_multi_perform(h->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(h->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct call *done;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&done);
            outcome(done, m->data.result);
            finish(h, done);
        }
        /* answers a failed post left behind: hand them over again */
        pthread_mutex_lock(&h->lock);
        int stuck = h->finished && !h->posted;
        h->posted |= stuck;
        /* from here on news must wake the worker; news that came meanwhile is taken at once */
        int news = h->incoming != NULL || h->quit;
        h->polling = !news;
        pthread_mutex_unlock(&h->lock);
        if (stuck && loop_post(h->loop, drain, h)) {
            pthread_mutex_lock(&h->lock);
            h->posted = 0;
            pthread_mutex_unlock(&h->lock);
        }
        if (!news)
            curl_multi_poll(h->multi, NULL, 0, stuck ? 100 : 1000, NULL);
        pthread_mutex_lock(&h->lock);
        h->polling = 0;
        pthread_mutex_unlock(&h->lock);
    }
    while (h->active) {
        struct call *c = h->active;
        h->active = c->next;
        curl_multi_remove_handle(h->multi, c->easy);
        call_free(c);
    }
    while (h->nidle > 0)
        curl_easy_cleanup(h->idle[--h->nidle]);
    return NULL;
}

int http_new(struct http **out, struct loop *loop, const char *ca_file, char *err, size_t errlen)
{
    struct http *h = calloc(1, sizeof *h);
    if (!h || (ca_file && !(h->ca_file = strdup(ca_file))) || !(h->multi = curl_multi_init())) {
        snprintf(err, errlen, "out of memory");
        if (h)
            free(h->ca_file);
        free(h);
        return ERR_NOMEM;
    }
    h->loop = loop;
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)KEEP_CONNECTIONS);
    pthread_mutex_init(&h->lock, NULL);
    if (pthread_create(&h->thread, NULL, worker, h)) {
        snprintf(err, errlen, "cannot start the HTTP worker thread");
        curl_multi_cleanup(h->multi);
        pthread_mutex_destroy(&h->lock);
        free(h->ca_file);
        free(h);
        return ERR_NOMEM;
    }
    *out = h;
    return 0;
}

void http_free(struct http *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->quit = 1;
    pthread_mutex_unlock(&h->lock);
    curl_multi_wakeup(h->multi);
    pthread_join(h->thread, NULL);
    loop_unpost(h->loop, h);
    while (h->finished) {
        struct call *c = h->finished;
        h->finished = c->next;
        call_free(c);
    }
    curl_multi_cleanup(h->multi);
    pthread_mutex_destroy(&h->lock);
    free(h->ca_file);
    free(h);
}

/* Queues c for the worker, waking it only when it sleeps (a busy one takes it next turn). */
static void hand_to_worker(struct http *h, struct call *c)
{
    pthread_mutex_lock(&h->lock);
    push(&h->incoming, c);
    int wake = h->polling;
    h->polling = 0; /* one wakeup is enough */
    pthread_mutex_unlock(&h->lock);
    h->pending++;
    if (wake)
        curl_multi_wakeup(h->multi);
}

/* Appends the header line to c's list; 0 or ERR_NOMEM. */
static int add_header(struct call *c, const char *line)
{
    struct curl_slist *l = curl_slist_append(c->headers, line);
    if (!l)
        return ERR_NOMEM;
    c->headers = l;
    return 0;
}

/* Whether s is a method name: 1 to 15 upper-case letters. */
static int is_method(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof((struct call *)0)->method)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

int http_call(struct http *h, const struct http_request *req, http_done_fn done, void *ctx)
{
    if (req->method && !is_method(req->method))
        return ERR_INVAL;
    for (const char *const *hl = req->headers; hl && *hl; hl++)
        if (strpbrk(*hl, "\r\n") || !strchr(*hl, ':'))
            return ERR_INVAL; /* a line break would smuggle another header */
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->h = h;
    c->done = done;
    c->ctx = ctx;
    c->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 30000;
    c->want_ratelimit = req->want_ratelimit;
    if (req->method)
        snprintf(c->method, sizeof c->method, "%s", req->method);
    buf_init(&c->resp, MAX_BODY);
    c->url = strdup(req->url);
    int ok = c->url != NULL;
    if (ok && req->body) {
        c->body = malloc(req->body_len + 1);
        ok = c->body != NULL;
        if (ok) {
            memcpy(c->body, req->body, req->body_len);
            c->body[req->body_len] = '\0';
            c->body_len = req->body_len;
        }
    }
    struct buf line;
    buf_init(&line, 8192);
    if (ok && req->bearer)
        ok = !buf_printf(&line, "Authorization: Bearer %s", req->bearer) &&
             !add_header(c, buf_str(&line));
    buf_free(&line); /* buf_free does not wipe; the token also lives in the caller's config */
    if (ok && req->content_type) {
        buf_init(&line, 512);
        ok = !buf_printf(&line, "Content-Type: %s", req->content_type) &&
             !add_header(c, buf_str(&line));
        buf_free(&line);
    }
    for (const char *const *hl = req->headers; ok && hl && *hl; hl++)
        ok = !add_header(c, *hl);
    if (ok) /* no "Expect: 100-continue" round trip for larger bodies */
        ok = !add_header(c, "Expect:");
    if (!ok) {
        call_free(c);
        return ERR_NOMEM;
    }
    hand_to_worker(h, c);
    return 0;
}

int http_resolve(struct http *h, const char *host, http_resolved_fn done, void *ctx)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(host))) {
        free(c);
        return ERR_NOMEM;
    }
    c->h = h;
    c->resolved = done;
    c->ctx = ctx;
    buf_init(&c->resp, 1);
    hand_to_worker(h, c);
    return 0;
}

size_t http_pending(const struct http *h)
{
    return h->pending;
}
