/* mattermost.c - the Mattermost adapter: API v4 over its WebSocket, with the REST API for the
 * rest (see protocols.md §2).
 *
 * It signs in with GET users/me (the bot's own id and username), opens /api/v4/websocket and
 * answers the authentication challenge, then reads events. Mattermost numbers a socket's events
 * from 0 with no gap: a gap, or a socket that drops, means events may be missing, so after every
 * reconnect planbot lists its channels (GET users/me/channels) and reads in each the posts made
 * since the socket was lost (GET channels/{id}/posts?since=), answering those it has not yet (the
 * seen set and the inbox's records make sure nothing is answered twice). Each question is
 * recorded in the inbox before it is taken, so a crash between receipt and reply is answered at
 * the next start. Replies go through the shared outbox as POST /api/v4/posts in the question's
 * thread, with 429 and Retry-After (or X-RateLimit-Reset) honoured. */
#include "plat.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "codec.h"
#include "err.h"
#include "http.h"
#include "resolver.h"
#include "json_arena.h"
#include "log.h"
#include "mattermost_codec.h"
#include "outbox.h"
#include "reconnect.h"
#include "seen.h"
#include "ws.h"

enum {
    SEEN = 8192,             /* post ids remembered, so that one is answered once */
    ARENA = 64 * 1024,       /* bytes for the tree of one frame */
    INFLIGHT_MAX = 8,        /* posts in flight at once (each channel: one): with 4, the loop's
                                linger when behind (linger_us) slowed a burst down by 15% */
    OUTBOX_MAX = 100000,     /* parts waiting; more is ERR_TOOBIG */
    AUTH_TIMEOUT_MS = 10000, /* a socket that says no hello (or OK) is dropped */
    STOP_GRACE_MS = 5000,    /* on SIGTERM: time left to post the replies queued */
    BACKOFF_CAP_MS = 60000,
    STABLE_MS = 10000,        /* a socket that served this long resets the backoff */
    HISTORY_PAGE = 200,       /* posts per page when the catch-up reads further back */
    CHANNELS_MAX = 1024,      /* channels remembered for the catch-up after a reconnect */
    CATCHUP_SLACK_MS = 60000, /* read this far before the newest post seen: clocks differ */
};

/* A channel planbot was asked in, for the catch-up: where to look, and how. */
struct chan {
    char id[MM_ID_MAX];
    int direct; /* a direct channel: every post in it is a question */
};

/* A question being recorded by the host. */
struct pending {
    struct pending *next;
    struct plat *p;
    struct mm_post post; /* owned */
    int direct;
};

struct plat {
    struct plat_host host;
    struct loop *loop;
    struct http *http;
    struct resolver *resolver; /* looks the socket's host up off the loop */
    char *base, *token; /* owned; the server's URL ending in '/'; the token is never logged */
    int pace_ms, ping_secs, timeout_secs;
    char self_id[MM_ID_MAX], self_name[MM_NAME_MAX];
    int authed, replayed, opening;
    struct ws *ws;            /* the socket, or NULL */
    int hello;                /* the socket said hello */
    int64_t hello_at;         /* when */
    int64_t next_seq;         /* the seq the next event must have */
    int served;               /* a socket has served before: the next hello catches up */
    struct reconnect rc;      /* when to try again */
    struct loop_timer *retry; /* the next sign-in or socket */
    struct loop_timer *auth_timer;
    volatile sig_atomic_t *stop;
    int stopping, fatal;
    int64_t stop_deadline;
    int64_t newest;            /* create_at of the newest post taken, for the catch-up */
    int64_t lost_at;           /* wall-clock ms when the last socket that served was lost */
    int64_t catchup_since;     /* the catch-up under way reads posts made after this */
    struct seen *seen;         /* owned: ids of the posts taken */
    struct json_arena *arena;  /* owned */
    struct outbox *outbox;     /* owned */
    struct pending *recording; /* owned: questions whose record is being written */
    struct chan *chans;        /* owned */
    size_t nchans;
    char socket_url[2048];
};

static void want_socket(struct plat *p, int64_t delay);
static void stop_serving(struct plat *p);

static void fail(struct plat *p, const char *what)
{
    log_msg(LOG_ERROR, "mattermost: %s; stopping", what);
    p->fatal = 1;
    stop_serving(p);
}

static void arena_end(struct plat *p, int token)
{
    size_t left = json_arena_end(p->arena, token);
    if (left)
        log_msg(LOG_ERROR, "mattermost: %zu JSON allocations outlived their frame (a bug)", left);
}

/* ---- REST ---- */

static int call(struct plat *p, const char *method, const char *path, const char *json, size_t len,
                http_done_fn done, void *ctx)
{
    char url[4096];
    if ((size_t)snprintf(url, sizeof url, "%sapi/v4/%s", p->base, path) >= sizeof url)
        return ERR_TOOBIG;
    static const char *const headers[] = { "X-Requested-With: XMLHttpRequest", NULL };
    struct http_request req = { .method = method,
                                .url = url,
                                .bearer = p->token,
                                .content_type = json ? "application/json" : NULL,
                                .body = json,
                                .body_len = len,
                                .headers = headers,
                                .timeout_ms = (long)p->timeout_secs * 1000,
                                .want_ratelimit = 1 };
    int rc = http_call(p->http, &req, done, ctx);
    if (rc)
        log_msg(LOG_ERROR, "mattermost: cannot call %s %s: %s", method, path, err_str(rc));
    return rc;
}

/* The wait a rate-limited answer asks for, in ms (at least a second). */
static int64_t rate_wait_ms(const struct http_response *r)
{
    double secs = r->retry_after > 0 ? r->retry_after : r->rate.reset > 0 ? r->rate.reset : 1;
    if (secs > 3600)
        secs = 3600;
    return secs < 1 ? 1000 : (int64_t)(secs * 1000);
}

/* Why an answer failed, for the log: the status and Mattermost's error id when it sent one. */
static void why_failed(const struct http_response *r, char *why, size_t len)
{
    if (r->err) {
        snprintf(why, len, "%s", r->errmsg);
        return;
    }
    char id[MM_NAME_MAX] = "";
    char err[64];
    cJSON *o = r->body && r->len ? codec_parse_object(r->body, r->len, err, sizeof err) : NULL;
    codec_get_token(o, "id", "id", id, sizeof id, err, sizeof err);
    cJSON_Delete(o);
    snprintf(why, len, "HTTP status %ld%s%s", r->status, id[0] ? ", " : "", id);
}

/* ---- questions ---- */

static struct chan *chan_find(struct plat *p, const char *id)
{
    for (size_t i = 0; i < p->nchans; i++)
        if (strcmp(p->chans[i].id, id) == 0)
            return &p->chans[i];
    return NULL;
}

/* Remembers a channel planbot was asked in, for the catch-up (the first CHANNELS_MAX). */
static void chan_note(struct plat *p, const char *id, int direct)
{
    if (chan_find(p, id) || p->nchans >= CHANNELS_MAX)
        return;
    struct chan *grown = realloc(p->chans, (p->nchans + 1) * sizeof *grown);
    if (!grown)
        return;
    p->chans = grown;
    snprintf(grown[p->nchans].id, sizeof grown[p->nchans].id, "%s", id);
    grown[p->nchans++].direct = direct;
}

static void pending_free(struct pending *e)
{
    if (e) {
        mm_post_free(&e->post);
        free(e);
    }
}

static struct plat_message message(struct pending *e, int64_t record)
{
    const struct mm_post *q = &e->post;
    struct plat_message m = { q->user_id, q->channel_id, q->root_id[0] ? q->root_id : q->id,
                              q->text,    q->text_len,   e->direct,
                              0,          record,        0,
                              NULL };
    return m;
}

static void recorded(void *arg, int rc, int64_t record)
{
    struct pending *e = arg;
    struct plat *p = e->p;
    for (struct pending **pp = &p->recording; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    if (!rc || rc == ERR_EXISTS)
        seen_add(p->seen, seen_key("post", e->post.id));
    if (rc == ERR_EXISTS) {
        log_msg(LOG_INFO, "mattermost: post %s was answered before: not again", e->post.id);
    } else if (rc) {
        log_msg(LOG_WARN,
                "mattermost: cannot record post %s (%s); the catch-up after the next "
                "reconnect reads it again",
                e->post.id, err_str(rc));
    } else if (!p->stopping) { /* stopping: its record stays open; the next start answers it */
        struct plat_message m = message(e, record);
        p->host.on_message(p->host.ctx, p, &m);
    }
    pending_free(e);
}

/* Takes a post: answers it when it is a question to planbot, once. Takes q's text when it does. */
static void take(struct plat *p, struct mm_post *q, int direct, int mentioned)
{
    if (strcmp(q->user_id, p->self_id) == 0 || q->type[0] || q->from_bot || q->from_webhook ||
        !q->user_id[0])
        return; /* planbot's own, a system post, another bot or a webhook */
    int named;
    q->text_len = mm_text_plain(q->text, q->text_len, p->self_name, &named);
    if (named)
        mentioned = 1; /* a server that does not list mentions: planbot's name is in the text */
    if (!direct && !mentioned)
        return; /* a plain message in a channel: only mentions are answered there */
    if (seen_has(p->seen, seen_key("post", q->id)))
        return; /* answered already (the event, then the catch-up) */
    if (q->create_at > p->newest)
        p->newest = q->create_at;
    chan_note(p, q->channel_id, direct);
    struct pending *e = calloc(1, sizeof *e);
    if (!e) {
        log_msg(LOG_WARN, "mattermost: out of memory; post %s is left for the catch-up", q->id);
        return;
    }
    e->p = p;
    e->post = *q;
    e->direct = direct;
    struct plat_message m = message(e, 0);
    int rc = p->host.record(p->host.ctx, "mattermost", q->id, &m, recorded, e);
    if (rc) {
        log_msg(LOG_WARN, "mattermost: cannot record post %s (%s); it is left for the catch-up",
                q->id, err_str(rc));
        free(e);
        return;
    }
    memset(q, 0, sizeof *q); /* moved into e */
    e->next = p->recording;
    p->recording = e;
}

/* A page of a channel's history, read after a reconnect: everything changed since the socket was
 * lost (at most MM_POSTS_MAX, the newest), or, when that page was full, HISTORY_PAGE posts
 * before the oldest of the last page. */
struct catchup {
    struct plat *p;
    struct chan chan;
    int back; /* a page before= */
};

static void read_page(struct plat *p, const struct chan *chan, const char *before);

static void caught_up(void *ctx, const struct http_response *r)
{
    struct catchup *c = ctx;
    struct plat *p = c->p;
    if (r->status != 200) {
        char why[256];
        why_failed(r, why, sizeof why);
        log_msg(LOG_WARN, "mattermost: cannot read what was said in %s while away: %s", c->chan.id,
                why);
        free(c);
        return;
    }
    struct mm_post *posts;
    size_t n;
    char err[256];
    int token = json_arena_begin(p->arena);
    int bad = mm_posts_parse(r->body, r->len, &posts, &n, err, sizeof err);
    arena_end(p, token);
    if (bad) {
        log_msg(LOG_WARN, "mattermost: ignored a history of %s planbot cannot read: %s", c->chan.id,
                err);
        free(c);
        return;
    }
    size_t made = 0;
    for (size_t i = 0; i < n && !p->stopping; i++)
        if (posts[i].create_at >= p->catchup_since) { /* not an old post edited meanwhile */
            take(p, &posts[i], c->chan.direct, 0);
            made++;
        }
    if (made)
        log_msg(LOG_DEBUG, "mattermost: read %zu posts of %s made while away", made, c->chan.id);
    /* a full page, all of it made while away: there is more before it */
    if (n == (c->back ? HISTORY_PAGE : MM_POSTS_MAX) && made == n && !p->stopping)
        read_page(p, &c->chan, posts[0].id);
    mm_posts_free(posts, n);
    free(c);
}

/* Asks for a page of chan's history: since p->catchup_since, or the page before the post
 * before (not NULL). */
static void read_page(struct plat *p, const struct chan *chan, const char *before)
{
    struct catchup *c = calloc(1, sizeof *c);
    if (!c) {
        log_msg(LOG_WARN, "mattermost: out of memory; not reading what was said in %s", chan->id);
        return;
    }
    c->p = p;
    c->chan = *chan;
    c->back = before != NULL;
    char path[256];
    if (before)
        snprintf(path, sizeof path, "channels/%s/posts?before=%s&per_page=%d", chan->id, before,
                 HISTORY_PAGE);
    else
        snprintf(path, sizeof path, "channels/%s/posts?since=%lld", chan->id,
                 (long long)p->catchup_since);
    if (call(p, "GET", path, NULL, 0, caught_up, c))
        free(c);
}

/* Reads each known channel's posts made since p->catchup_since. */
static void read_histories(struct plat *p)
{
    for (size_t i = 0; i < p->nchans; i++)
        read_page(p, &p->chans[i], NULL);
}

/* The list of planbot's channels, for the catch-up: every one it is a member of (so also a
 * first direct message from someone new) joins the channels to read. */
static void listed(void *ctx, const struct http_response *r)
{
    struct plat *p = ctx;
    struct mm_channel *list = NULL;
    size_t n = 0;
    char err[256] = "";
    int rc = r->status == 200 ? 0 : ERR_IO;
    if (!rc) {
        int token = json_arena_begin(p->arena);
        rc = mm_channels_parse(r->body, r->len, &list, &n, err, sizeof err);
        arena_end(p, token);
    } else {
        why_failed(r, err, sizeof err);
    }
    if (rc)
        log_msg(LOG_WARN,
                "mattermost: cannot list planbot's channels (%s); reading only those "
                "it was asked in",
                err);
    for (size_t i = 0; i < n; i++)
        chan_note(p, list[i].id, strcmp(list[i].type, "D") == 0);
    free(list);
    if (!p->stopping)
        read_histories(p);
}

/* After a reconnect: reads what was said while the socket was down (from a minute before it was
 * lost, for clocks that differ; what was taken already is skipped) in every channel planbot is
 * in. */
static void catch_up(struct plat *p)
{
    int64_t from = p->lost_at ? p->lost_at : p->newest;
    p->catchup_since = from > CATCHUP_SLACK_MS ? from - CATCHUP_SLACK_MS : 0;
    if (call(p, "GET", "users/me/channels", NULL, 0, listed, p))
        read_histories(p);
}

/* The wall clock in ms, as Mattermost's create_at. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the socket ---- */

static void on_text(void *ctx, struct ws *ws, const char *data, size_t len)
{
    struct plat *p = ctx;
    if (p->stopping || ws != p->ws)
        return;
    struct mm_frame f;
    char err[256];
    int token = json_arena_begin(p->arena);
    int bad = mm_frame_parse(data, len, p->self_id, &f, err, sizeof err);
    arena_end(p, token);
    if (bad) {
        log_msg(LOG_WARN, "mattermost: ignored a frame planbot cannot read (%zu bytes): %s", len,
                err);
        return;
    }
    if (f.type == MM_FRAME_REPLY) {
        if (f.seq == 1 && !f.ok) {
            fail(p, "Mattermost refused the token (MATTERMOST_TOKEN) on the socket");
        }
        mm_frame_free(&f);
        return;
    }
    if (f.seq >= 0 && p->hello && f.seq != p->next_seq) {
        log_msg(LOG_WARN, "mattermost: events %lld to %lld are missing; reconnecting",
                (long long)p->next_seq, (long long)f.seq - 1);
        p->hello = 0; /* what still comes on this socket is read by the catch-up instead */
        p->lost_at = wall_ms();
        p->hello_at = 0;
        ws_close(ws);
        mm_frame_free(&f);
        return;
    }
    if (f.seq >= 0)
        p->next_seq = f.seq + 1;
    if (f.type == MM_FRAME_HELLO) {
        p->hello = 1;
        p->hello_at = loop_now_ms();
        loop_timer_cancel(p->auth_timer);
        log_msg(LOG_INFO, "mattermost: connected as @%s", p->self_name);
        if (p->served)
            catch_up(p);
        p->served = 1;
    } else if (f.type == MM_FRAME_POSTED && p->hello) {
        take(p, &f.post, strcmp(f.post.channel_type, "D") == 0, f.post.mentioned);
    }
    mm_frame_free(&f);
}

static void on_open(void *ctx, struct ws *ws)
{
    struct plat *p = ctx;
    struct buf b;
    buf_init(&b, 8192);
    int rc = mm_auth_frame(1, p->token, &b);
    if (!rc)
        rc = ws_send(ws, b.data, b.len);
    buf_free(&b); /* held the token; buf_free does not wipe, as for every other copy of it */
    if (rc) {
        log_msg(LOG_WARN, "mattermost: cannot send the authentication: %s", err_str(rc));
        ws_abort(ws);
        return;
    }
    p->next_seq = 0;
    loop_timer_set(p->auth_timer, AUTH_TIMEOUT_MS);
}

static void on_close(void *ctx, struct ws *ws, int code, const char *why)
{
    struct plat *p = ctx;
    if (ws != p->ws)
        return;
    p->ws = NULL;
    loop_timer_cancel(p->auth_timer);
    reconnect_closed(&p->rc, p->hello ? loop_now_ms() - p->hello_at : 0);
    if (p->hello)
        p->lost_at = wall_ms();
    p->hello = 0;
    if (p->stopping || p->fatal)
        return;
    if (code)
        log_msg(LOG_INFO, "mattermost: disconnected (%s, status %d)", why, code);
    else
        log_msg(LOG_INFO, "mattermost: disconnected (%s)", why);
    want_socket(p, -1);
}

static const struct ws_handler handler = { on_open, on_text, on_close, NULL };

static void auth_late(void *arg)
{
    struct plat *p = arg;
    log_msg(LOG_WARN, "mattermost: no hello within %d s; dropping the socket",
            AUTH_TIMEOUT_MS / 1000);
    if (p->ws)
        ws_abort(p->ws);
}

static void open_socket(struct plat *p, const char *addr)
{
    char err[256];
    struct ws_options opt = { 0, 0, p->ping_secs, p->timeout_secs, "mattermost", addr, NULL };
    int rc = ws_connect(p->loop, p->socket_url, &opt, &handler, p, &p->ws, err, sizeof err);
    if (rc) {
        log_msg(LOG_WARN, "mattermost: %s", err);
        p->ws = NULL;
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
    }
}

static void looked_up(void *ctx, int err, const char *addr, const char *why)
{
    struct plat *p = ctx;
    p->opening = 0;
    if (p->stopping || p->fatal)
        return;
    if (err) {
        log_msg(LOG_WARN, "mattermost: %s", why);
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
        return;
    }
    open_socket(p, addr);
}

/* Opens the WebSocket: ws(s)://host/api/v4/websocket, looking a host name up off the loop. */
static void connect_socket(struct plat *p)
{
    int tls = strncmp(p->base, "https://", 8) == 0;
    snprintf(p->socket_url, sizeof p->socket_url, "%s%sapi/v4/websocket", tls ? "wss://" : "ws://",
             p->base + (tls ? 8 : 7));
    struct ws_url u;
    if (ws_url_parse(p->socket_url, &u)) {
        fail(p, "the server URL (MATTERMOST_URL) cannot name a WebSocket");
        return;
    }
    unsigned char bin[16];
    if (inet_pton(AF_INET, u.host, bin) == 1 || inet_pton(AF_INET6, u.host, bin) == 1) {
        open_socket(p, NULL);
        return;
    }
    p->opening = 1;
    if (resolver_lookup(p->resolver, u.host, looked_up, p)) {
        p->opening = 0;
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
    }
}

static void signed_in(void *ctx, const struct http_response *r)
{
    struct plat *p = ctx;
    p->opening = 0;
    if (p->stopping || p->fatal)
        return;
    char why[400], err[200];
    if (r->status == 401 || r->status == 403) {
        why_failed(r, err, sizeof err);
        snprintf(why, sizeof why, "Mattermost refused the token (MATTERMOST_TOKEN): %s", err);
        fail(p, why);
        return;
    }
    int rc = r->status == 200 ? 0 : ERR_IO;
    if (rc)
        why_failed(r, why, sizeof why);
    if (!rc) {
        int token = json_arena_begin(p->arena);
        rc = mm_me_parse(r->body, r->len, p->self_id, p->self_name, err, sizeof err);
        arena_end(p, token);
        if (rc)
            snprintf(why, sizeof why, "an answer planbot cannot read: %s", err);
    }
    if (rc) {
        reconnect_failed(&p->rc, r->status == 429 ? rate_wait_ms(r) : 0);
        log_msg(LOG_WARN, "mattermost: users/me failed: %s", why);
        want_socket(p, -1);
        return;
    }
    reconnect_succeeded(&p->rc);
    p->authed = 1;
    log_msg(LOG_INFO, "mattermost: signed in as @%s (user %s)", p->self_name, p->self_id);
    if (!p->replayed && p->host.replay) {
        p->replayed = 1;
        p->host.replay(p->host.ctx, p);
    }
    connect_socket(p);
}

static void connect_now(void *arg)
{
    struct plat *p = arg;
    if (p->stopping || p->fatal || p->opening || p->ws)
        return;
    if (p->authed) {
        connect_socket(p);
        return;
    }
    p->opening = 1;
    if (call(p, "GET", "users/me", NULL, 0, signed_in, p)) {
        p->opening = 0;
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
    }
}

static void want_socket(struct plat *p, int64_t delay)
{
    if (p->stopping || p->fatal || p->opening || p->ws || loop_timer_armed(p->retry))
        return;
    delay = reconnect_delay(&p->rc, delay);
    if (delay >= 1000)
        log_msg(LOG_INFO, "mattermost: connecting again in %.1f s", (double)delay / 1000);
    loop_timer_set(p->retry, delay);
}

/* ---- replies ---- */

static void posted(void *ctx, const struct http_response *r)
{
    struct outbox_item *it = ctx;
    struct plat *p = it->arg;
    char why[256];
    if (r->status == 200 || r->status == 201) {
        outbox_done(p->outbox, it, OUTBOX_POSTED, 0, NULL);
        return;
    }
    why_failed(r, why, sizeof why);
    if (r->status == 401) {
        fail(p, "Mattermost refused the token (MATTERMOST_TOKEN) when posting");
        outbox_done(p->outbox, it, OUTBOX_HALTED, 0, why);
    } else if (r->status == 429) {
        outbox_done(p->outbox, it, OUTBOX_RETRY, rate_wait_ms(r), why);
    } else if (r->status == 400 || r->status == 403 || r->status == 404) {
        outbox_done(p->outbox, it, OUTBOX_DROPPED, 0, why);
    } else {
        outbox_done(p->outbox, it, OUTBOX_RETRY, 0, why);
    }
}

static int start_post(void *ctx, struct outbox_item *it)
{
    struct plat *p = ctx;
    struct buf body;
    buf_init(&body, it->len * 6 + 4096);
    int rc = mm_post_body(it->channel, it->thread, it->text, it->len, &body);
    if (!rc)
        rc = call(p, "POST", "posts", body.data, body.len, posted, it);
    buf_free(&body);
    return rc;
}

static void settle_post(void *ctx, int64_t record, int answered)
{
    struct plat *p = ctx;
    if (p->host.settle)
        p->host.settle(p->host.ctx, record, answered);
}

static const struct outbox_ops outbox_ops = { start_post, settle_post, NULL, NULL };

/* Queues the reply (written in mm_markup: it can notify no one). */
static int mattermost_send(struct plat *p, const struct plat_message *msg, const char *text,
                           size_t len)
{
    return outbox_send(p->outbox, msg->channel, msg->thread, msg->user, text, len, &mm_markup,
                       msg->record, loop_now_ms());
}

/* ---- life ---- */

static void mattermost_close(struct plat *p);

static int mattermost_open(struct plat **out, const struct plat_host *host, char *err,
                           size_t errlen)
{
    const struct config *cfg = host->cfg;
    struct plat *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    p->host = *host;
    p->loop = host->loop;
    p->pace_ms = config_int(cfg, "mattermost", "pace_ms");
    p->ping_secs = config_int(cfg, "mattermost", "ping_secs");
    p->timeout_secs = config_int(cfg, "mattermost", "timeout_secs");
    const char *url = config_string(cfg, "mattermost", "url");
    reconnect_init(&p->rc, BACKOFF_CAP_MS, STABLE_MS);
    int rc = config_secret("MATTERMOST_TOKEN", config_string(cfg, "mattermost", "token_file"),
                           &p->token, err, errlen);
    if (!rc && !p->token) {
        snprintf(err, errlen,
                 "the bot account's token is not set: set MATTERMOST_TOKEN, or name a file "
                 "holding it in the configuration (mattermost.token_file)");
        rc = ERR_USAGE;
    }
    if (!rc && !url) {
        snprintf(err, errlen,
                 "the server is not set: set MATTERMOST_URL (https://chat.example.com), or "
                 "mattermost.url in the configuration");
        rc = ERR_USAGE;
    }
    if (!rc && !(p->base = strdup(url)))
        rc = ERR_NOMEM;
    if (!rc)
        rc = http_new(&p->http, p->loop, cfg->tls_ca_file, err, errlen);
    if (!rc && resolver_new(&p->resolver, p->loop)) {
        snprintf(err, errlen, "out of memory");
        rc = ERR_NOMEM;
    }
    if (!rc && (!(p->retry = loop_timer_new(p->loop, connect_now, p)) ||
                !(p->auth_timer = loop_timer_new(p->loop, auth_late, p)) ||
                !(p->seen = seen_new(SEEN)) || !(p->arena = json_arena_new(ARENA))))
        rc = ERR_NOMEM;
    struct outbox_config oc = { "mattermost", p->pace_ms,     INFLIGHT_MAX,
                                OUTBOX_MAX,   BACKOFF_CAP_MS, 0 };
    if (!rc && !(p->outbox = outbox_new_on(p->loop, &oc, &outbox_ops, p)))
        rc = ERR_NOMEM;
    if (rc) {
        if (rc == ERR_NOMEM)
            snprintf(err, errlen, "out of memory");
        mattermost_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

static void stop_serving(struct plat *p)
{
    if (p->stopping)
        return;
    p->stopping = 1;
    p->stop_deadline = loop_now_ms() + STOP_GRACE_MS;
    loop_timer_cancel(p->retry);
    size_t left = outbox_waiting(p->outbox);
    log_msg(LOG_INFO, "mattermost: stopping; %zu repl%s to post", left, left == 1 ? "y" : "ies");
    if (p->ws)
        ws_close(p->ws);
}

static int mattermost_stopped(struct plat *p)
{
    if (*p->stop)
        stop_serving(p);
    if (!p->stopping)
        return 0;
    if (outbox_idle(p->outbox) && !p->ws)
        return 1;
    return loop_now_ms() > p->stop_deadline;
}

static int mattermost_start(struct plat *p, volatile sig_atomic_t *stop)
{
    p->stop = stop;
    log_msg(LOG_INFO, "mattermost: connecting to %s", p->base);
    want_socket(p, 0);
    return 0;
}

static int mattermost_finish(struct plat *p)
{
    outbox_report_unposted(p->outbox);
    log_msg(LOG_INFO, "mattermost: stopped");
    return p->fatal ? ERR_AUTH : 0;
}

static void mattermost_close(struct plat *p)
{
    if (!p)
        return;
    http_free(p->http); /* first: no callback may run after this */
    resolver_free(p->resolver);
    loop_timer_free(p->retry);
    loop_timer_free(p->auth_timer);
    outbox_free(p->outbox);
    while (p->recording) { /* its record stays open: the next start answers it */
        struct pending *e = p->recording;
        p->recording = e->next;
        pending_free(e);
    }
    seen_free(p->seen);
    json_arena_free(p->arena);
    free(p->chans);
    free(p->base);
    free(p->token);
    free(p);
}

/* ---- settings ---- */

static int mattermost_check(const struct config *cfg, const char *origin, char *err, size_t errlen)
{
    return config_check_less(cfg, "mattermost", "ping_secs", "timeout_secs",
                             "or a quiet socket is dropped before it is pinged", origin, err,
                             errlen);
}

static const struct config_key mattermost_keys[] = {
    { "url", CONFIG_URL, 0, 0, 0, NULL, "MATTERMOST_URL" },
    { "token_file", CONFIG_TOKEN_FILE, 0, 0, 0, NULL, NULL },
    { "pace_ms", CONFIG_INT, 0, 60000, 1000, NULL, NULL },
    { "ping_secs", CONFIG_INT, 1, 3600, 30, NULL, NULL },
    { "timeout_secs", CONFIG_INT, 2, 3600, 60, NULL, NULL },
    { "token", CONFIG_SECRET, 0, 0, 0, NULL, "MATTERMOST_TOKEN" },
    { NULL, CONFIG_INT, 0, 0, 0, NULL, NULL },
};

static const struct config_section mattermost_settings = { "mattermost", mattermost_keys,
                                                           mattermost_check };

const struct plat_ops plat_mattermost = {
    .name = "mattermost",
    .description = "Mattermost, through its API v4 WebSocket (MATTERMOST_URL, MATTERMOST_TOKEN)",
    .markup = &mm_markup,
    .caps = PLAT_CAP_LOOP | PLAT_CAP_RECORDS | PLAT_CAP_MODERATORS,
    .settings = &mattermost_settings,
    .open = mattermost_open,
    .start = mattermost_start,
    .stopped = mattermost_stopped,
    .finish = mattermost_finish,
    .send = mattermost_send,
    .close = mattermost_close,
};
