/* slack.c - the Slack adapter: Socket Mode for events, the Web API for replies.
 *
 * At start, auth.test tells planbot its own user and bot ids; apps.connections.open then gives a
 * WebSocket URL. Every envelope is acknowledged the moment it arrives, then answered: events are
 * deduplicated on their event_id (and on channel and ts, since a mention can come both as
 * app_mention and as message), so a redelivery is answered once. Replies wait in an outbox and
 * are posted with chat.postMessage in the question's thread, at most one post in flight and one
 * post per pace_ms per channel; a 429 pauses the whole outbox for Retry-After seconds, and
 * nothing is dropped except what Slack says can never be delivered.
 *
 * Socket changes: on `warning` and `refresh_requested` a second socket is opened while the first
 * keeps serving, and the first is closed once the second has said hello, so no event is missed;
 * a dropped socket is replaced after a backoff with jitter; an app token Slack refuses stops
 * planbot with a clear message instead of a reconnect loop.
 *
 * Wire format: slack_codec.c. Event loop, sockets, HTTP: net/ws.c and net/http.c. */
#include "plat.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "resolver.h"
#include "json_arena.h"
#include "log.h"
#include "outbox.h"
#include "reconnect.h"
#include "seen.h"
#include "slack_codec.h"
#include "ws.h"

enum {
    SEEN = 8192,              /* event keys remembered for deduplication */
    ARENA = 64 * 1024,        /* bytes for the tree of one frame; a larger one spills to malloc */
    INFLIGHT_MAX = 16,        /* posts in flight at once (each channel: one); as many as the
                                 connections curl keeps, so that the loop's linger when behind
                                 (linger_us) does not slow a burst down */
    OUTBOX_MAX = 100000,      /* parts waiting; more is ERR_TOOBIG */
    HELLO_TIMEOUT_MS = 10000, /* a socket that says no hello is dropped */
    STOP_GRACE_MS = 5000,     /* on SIGTERM: time left to post the replies queued */
    BACKOFF_CAP_MS = 60000,
    LINK_DISABLED_MS = 60000, /* Socket Mode switched off: retry this slowly */
    STABLE_MS = 10000,        /* a socket that served this long resets the backoff */
    SPARE_MAX = 256,          /* event structs kept for reuse */
};

/* An event to answer. It waits first for its record to be written (in p->recording), then,
 * acknowledged, until its acknowledgement is on the wire (in its socket's events), so that slow
 * work (a moderator's change waiting for the database) never delays an acknowledgement. */
struct pending {
    struct pending *next;
    struct plat *p;
    struct conn *conn;    /* the socket it came by; NULL once that closed */
    struct slack_frame f; /* owned */
    int direct;
    int64_t record;        /* the host's record of the question */
    uint64_t by_id, by_ts; /* its keys for deduplication */
};

struct conn {
    struct conn *next;                    /* in p->conns */
    struct pending *events, **events_end; /* oldest first */
    struct plat *p;
    struct ws *ws;
    struct loop_timer *hello_timer;
    int hello;
    int64_t hello_at; /* when it said hello */
};

struct plat {
    struct plat_host host;
    struct loop *loop;
    struct http *http;
    struct resolver *resolver;             /* looks the socket's host up off the loop */
    char *api_url, *app_token, *bot_token; /* owned; the tokens are never logged */
    int pace_ms;
    int ping_secs, timeout_secs; /* keepalive of the socket; the limit of an API call */
    char self_user[SLACK_ID_MAX], self_bot[SLACK_ID_MAX];
    int authed;               /* auth.test succeeded */
    int replayed;             /* the questions left open by the last stop were handed over */
    int opening;              /* a call to apps.connections.open is in flight */
    struct conn *cur;         /* the socket that serves */
    struct conn *fresh;       /* a socket connecting, to replace cur or to be the first */
    struct conn *conns;       /* every socket, also old ones still closing */
    struct reconnect rc;      /* when to try again: backoff, a 429's wait, link_disabled's floor */
    struct loop_timer *retry; /* the next auth.test or apps.connections.open */
    volatile sig_atomic_t *stop;
    int stopping;
    int64_t stop_deadline;
    int fatal;                /* a fatal error was logged: stop */
    int bot_refused;          /* Slack refused the bot token: nothing can be posted */
    struct seen *seen;        /* owned: keys of the events taken (event_id; channel and ts) */
    struct json_arena *arena; /* owned: the trees of the frame or answer being read */
    struct pending *recording, *recording_tail; /* events whose record is being written */
    struct pending *spare; /* owned: structs of events gone, for the next ones */
    int nspare;
    struct outbox *outbox; /* owned: the replies to post */
    int64_t event_at;      /* when the event being handled arrived, for the log */
    char socket_url[2048]; /* apps.connections.open's URL while its host is looked up */
};

static void want_socket(struct plat *p, int64_t delay);

/* ---- helpers ---- */

/* Ends the arena pair of a codec call; the codec deletes every tree it makes, so a tree left
 * over is a bug worth a loud line, not a silent leak. */
static void arena_end(struct plat *p, int token)
{
    size_t left = json_arena_end(p->arena, token);
    if (left)
        log_msg(LOG_ERROR, "slack: %zu JSON allocations outlived their frame (a bug)", left);
}

static void stop_serving(struct plat *p);

/* A fatal error: log it, then stop as on SIGTERM, posting what can still be posted. */
static void fail(struct plat *p, const char *what, const char *error)
{
    log_msg(LOG_ERROR, "slack: %s: %s; stopping", what, error);
    p->fatal = 1;
    stop_serving(p);
}

/* ---- Web API calls ---- */

static int call(struct plat *p, const char *method, const char *token, const char *json, size_t len,
                http_done_fn done, void *ctx)
{
    char url[4096];
    if ((size_t)snprintf(url, sizeof url, "%s%s", p->api_url, method) >= sizeof url) {
        log_msg(LOG_ERROR, "slack: the API URL is too long");
        return ERR_TOOBIG;
    }
    struct http_request req = { .method = "POST",
                                .url = url,
                                .bearer = token,
                                .content_type = json ? "application/json; charset=utf-8" : NULL,
                                .body = json,
                                .body_len = len,
                                .timeout_ms = (long)p->timeout_secs * 1000 };
    int rc = http_call(p->http, &req, done, ctx);
    if (rc)
        log_msg(LOG_ERROR, "slack: cannot call %s: %s", method, err_str(rc));
    return rc;
}

/* Reads a Web API answer; 0 and *a, or a reason in why (then the call is worth a retry unless
 * *fatal). *retry_after is the wait Slack asked for, in ms, or 0. */
static int api_answer(struct plat *p, const struct http_response *r, struct slack_api *a, char *why,
                      size_t len, int64_t *retry_after)
{
    *retry_after = 0;
    if (r->err) {
        snprintf(why, len, "%s", r->errmsg);
        return ERR_IO;
    }
    if (r->status == 429) {
        *retry_after = (r->retry_after > 0 ? r->retry_after : 1) * (int64_t)1000;
        snprintf(why, len, "rate limited (HTTP 429, Retry-After %d)", r->retry_after);
        return ERR_RATELIMIT;
    }
    if (r->status != 200) {
        snprintf(why, len, "HTTP status %ld", r->status);
        return ERR_IO;
    }
    char err[160];
    int token = json_arena_begin(p->arena);
    int bad = slack_api_parse(r->body, r->len, a, err, sizeof err);
    arena_end(p, token);
    if (bad) {
        snprintf(why, len, "an answer planbot cannot read: %s", err);
        return ERR_INVAL;
    }
    return 0;
}

/* ---- sockets ---- */

/* Events come and go by the thousand: their structs (larger than malloc's small sizes, whose
 * allocation would consolidate the heap each time) are kept for reuse, SPARE_MAX at most. */
static struct pending *pending_new(struct plat *p)
{
    struct pending *e = p->spare;
    if (e) {
        p->spare = e->next;
        p->nspare--;
        return e;
    }
    return malloc(sizeof *e);
}

static void pending_free(struct pending *e)
{
    struct plat *p = e->p;
    slack_frame_free(&e->f);
    if (p->nspare < SPARE_MAX) {
        e->next = p->spare;
        p->spare = e;
        p->nspare++;
    } else {
        free(e);
    }
}

static void conn_free(struct conn *c)
{
    if (!c)
        return;
    for (struct conn **cc = &c->p->conns; *cc; cc = &(*cc)->next)
        if (*cc == c) {
            *cc = c->next;
            break;
        }
    while (c->events) { /* at exit: their records stay open, and the next start answers them */
        struct pending *e = c->events;
        c->events = e->next;
        pending_free(e);
    }
    for (struct pending *e = c->p->recording; e; e = e->next)
        if (e->conn == c)
            e->conn = NULL; /* it is answered, once recorded, without an acknowledgement */
    loop_timer_free(c->hello_timer);
    free(c);
}

/* The message an event asks planbot. In a channel the reply goes in the question's thread; in a
 * direct message, beside it unless the question was itself in a thread. */
static struct plat_message message(const struct slack_frame *f, int direct, int64_t record)
{
    const char *thread = f->thread_ts[0] ? f->thread_ts : direct ? "" : f->ts;
    struct plat_message m = { f->user, f->channel, thread, f->text, f->text_len,
                              direct,  0,          record, 0,       NULL };
    return m;
}

/* Whether an event is one planbot answered already (its event_id, or its channel and ts: a
 * mention can come both as app_mention and as message). */
static int taken(const struct plat *p, const struct pending *e)
{
    return seen_has(p->seen, e->by_id) || seen_has(p->seen, e->by_ts);
}

static void recorded(void *arg, int rc, int64_t record);

/* Decides about an event before it is acknowledged: 0 when it is only to be acknowledged, 1 when
 * it went to be recorded (recorded() acknowledges it then), -1 when it must not be acknowledged
 * (it could not even be queued: Slack should deliver it again). Takes f when it returns 1. */
static int admit(struct plat *p, struct conn *c, struct slack_frame *f)
{
    int direct = 0;
    enum slack_verdict v = slack_verdict(f, p->self_user, p->self_bot, &direct);
    if (v != SLACK_ANSWER) {
        log_msg(LOG_DEBUG, "slack: ignored event %s: %s", f->event_id, slack_verdict_str(v));
        return 0;
    }
    f->text_len = slack_text_question(f->text, f->text_len, p->self_user);
    struct pending probe = { .by_id = seen_key("event", f->event_id),
                             .by_ts = seen_key(f->channel, f->ts) };
    if (taken(p, &probe)) {
        log_msg(LOG_INFO, "slack: event %s (retry %d) was answered already", f->event_id,
                f->retry_attempt);
        return 0;
    }
    struct pending *e = pending_new(p);
    if (!e) {
        log_msg(LOG_WARN, "slack: out of memory; not acknowledging event %s", f->event_id);
        return -1;
    }
    *e = probe;
    e->p = p;
    e->conn = c;
    e->f = *f;
    e->direct = direct;
    struct plat_message m = message(f, direct, 0);
    int rc = p->host.record(p->host.ctx, "slack", f->event_id, &m, recorded, e);
    if (rc) {
        log_msg(LOG_WARN,
                "slack: cannot record event %s (%s); not acknowledging it, so that "
                "Slack delivers it again",
                f->event_id, err_str(rc));
        e->f.text = NULL; /* still f's */
        pending_free(e);
        return -1;
    }
    f->text = NULL; /* moved into e */
    if (p->recording_tail)
        p->recording_tail->next = e;
    else
        p->recording = e;
    p->recording_tail = e;
    return 1;
}

static void handle_event(struct plat *p, const struct pending *e)
{
    struct plat_message m = message(&e->f, e->direct, e->record);
    p->event_at = loop_now_ms();
    p->host.on_message(p->host.ctx, p, &m);
    p->event_at = 0;
}

/* Acknowledges an envelope on the socket it came by. */
static void ack(struct ws *ws, const char *envelope_id)
{
    struct buf out;
    buf_init(&out, 512);
    int rc = slack_ack(envelope_id, &out);
    if (!rc)
        rc = ws_send(ws, out.data, out.len);
    if (rc)
        log_msg(LOG_WARN, "slack: cannot acknowledge envelope %s: %s", envelope_id, err_str(rc));
    buf_free(&out);
}

/* The host wrote (or failed to write) the record of e: acknowledge it, and answer it once the
 * acknowledgement is on the wire; or, when it could not be written, leave it unacknowledged. */
static void recorded(void *arg, int rc, int64_t record)
{
    struct pending *e = arg;
    struct plat *p = e->p;
    if (p->recording == e) { /* the host reports in the order it was asked: e is the first */
        p->recording = e->next;
    } else {
        struct pending *prev = p->recording;
        while (prev && prev->next != e)
            prev = prev->next;
        if (prev)
            prev->next = e->next;
    }
    if (p->recording_tail == e) {
        struct pending *last = p->recording;
        while (last && last->next)
            last = last->next;
        p->recording_tail = last;
    }
    e->next = NULL;
    e->record = record;
    const char *id = e->f.event_id;
    if (rc && rc != ERR_EXISTS) {
        log_msg(LOG_WARN, "slack: not acknowledging event %s, so that Slack delivers it again", id);
        pending_free(e);
        return;
    }
    if (p->stopping) { /* its record stays open: the next start answers it */
        pending_free(e);
        return;
    }
    int again = taken(p, e); /* the same question twice in one turn (app_mention and message) */
    seen_add(p->seen, e->by_id);
    seen_add(p->seen, e->by_ts);
    if (e->conn)
        ack(e->conn->ws, e->f.envelope_id);
    if (rc == ERR_EXISTS || again) {
        log_msg(LOG_INFO, "slack: event %s (retry %d) was %s before: not answered again", id,
                e->f.retry_attempt, again ? "taken" : "recorded");
        if (again && p->host.settle)
            p->host.settle(p->host.ctx, record, 1);
        pending_free(e);
        return;
    }
    if (!e->conn) { /* its socket closed before the acknowledgement: answer it now */
        handle_event(p, e);
        pending_free(e);
        return;
    }
    struct conn *c = e->conn;
    *c->events_end = e;
    c->events_end = &e->next;
}

static void on_text(void *ctx, struct ws *ws, const char *data, size_t len)
{
    struct conn *c = ctx;
    struct plat *p = c->p;
    if (p->stopping)
        return; /* not acknowledged: Slack delivers it again to whoever serves next */
    struct slack_frame f;
    char err[160];
    int token = json_arena_begin(p->arena);
    int bad = slack_frame_parse(data, len, &f, err, sizeof err);
    arena_end(p, token);
    if (bad) {
        log_msg(LOG_WARN, "slack: ignored a frame planbot cannot read (%zu bytes): %s", len, err);
        if (f.envelope_id[0])
            ack(ws, f.envelope_id); /* redelivering it would not make it readable */
        return;
    }
    if (f.envelope_id[0] && f.type != SLACK_FRAME_EVENT)
        ack(ws, f.envelope_id);
    switch (f.type) {
    case SLACK_FRAME_HELLO:
        c->hello = 1;
        c->hello_at = loop_now_ms();
        loop_timer_cancel(c->hello_timer);
        if (c == p->fresh) {
            struct conn *old = p->cur;
            p->cur = c;
            p->fresh = NULL;
            log_msg(LOG_INFO, "slack: connected (%d socket%s open)", f.num_connections,
                    f.num_connections == 1 ? "" : "s");
            if (old) { /* a planned refresh that worked: the link is sound */
                log_msg(LOG_INFO, "slack: closing the socket it replaces");
                ws_close(old->ws);
                reconnect_succeeded(&p->rc);
            }
        }
        break;
    case SLACK_FRAME_DISCONNECT:
        log_msg(LOG_INFO, "slack: Slack asks planbot to reconnect (%s)", f.reason);
        if (c != p->cur)
            break;
        if (strcmp(f.reason, "warning") == 0 || strcmp(f.reason, "refresh_requested") == 0) {
            want_socket(p, 0); /* the new socket first; this one serves until it says hello */
        } else {
            if (strcmp(f.reason, "link_disabled") == 0) {
                log_msg(LOG_ERROR, "slack: Socket Mode is switched off in the app's settings; "
                                   "trying again every minute");
                reconnect_floor(&p->rc, LINK_DISABLED_MS);
            }
            ws_close(c->ws); /* too_many_websockets and others: close first, then reconnect */
        }
        break;
    case SLACK_FRAME_EVENT:
        if (admit(p, c, &f) == 0)
            ack(ws, f.envelope_id);
        break;
    case SLACK_FRAME_ENVELOPE:
    case SLACK_FRAME_OTHER: break;
    }
    slack_frame_free(&f);
}

static void on_open(void *ctx, struct ws *ws)
{
    (void)ws;
    struct conn *c = ctx;
    log_msg(LOG_DEBUG, "slack: socket open, waiting for hello");
    loop_timer_set(c->hello_timer, HELLO_TIMEOUT_MS);
}

static void on_drained(void *ctx, struct ws *ws);

static void on_close(void *ctx, struct ws *ws, int code, const char *why)
{
    struct conn *c = ctx;
    struct plat *p = c->p;
    /* Events recorded here whose acknowledgement may not have reached Slack: answer them now.
     * Should Slack deliver one again, its record makes that an acknowledgement and nothing more. */
    on_drained(c, ws);
    if (c == p->cur) {
        p->cur = NULL;
        /* the backoff starts again only after a socket that served a while, so a socket that
         * dies right after hello cannot make planbot reconnect in a tight loop */
        reconnect_closed(&p->rc, loop_now_ms() - c->hello_at);
        if (!p->stopping && !p->fatal) {
            if (code)
                log_msg(LOG_INFO, "slack: disconnected (%s, status %d)", why, code);
            else
                log_msg(LOG_INFO, "slack: disconnected (%s)", why);
            want_socket(p, -1);
        }
    } else if (c == p->fresh) {
        p->fresh = NULL;
        if (!p->stopping && !p->fatal) {
            log_msg(LOG_WARN, "slack: the new socket failed: %s", why);
            reconnect_failed(&p->rc, 0);
            want_socket(p, -1);
        }
    } else {
        log_msg(LOG_DEBUG, "slack: an old socket closed (%s)", why);
    }
    conn_free(c);
}

/* The acknowledgements are written: handle the events they acknowledged. */
static void on_drained(void *ctx, struct ws *ws)
{
    (void)ws;
    struct conn *c = ctx;
    struct pending *e = c->events;
    c->events = NULL;
    c->events_end = &c->events;
    while (e) {
        struct pending *next = e->next;
        handle_event(c->p, e);
        pending_free(e);
        e = next;
    }
}

static const struct ws_handler handler = { on_open, on_text, on_close, on_drained };

static void hello_late(void *arg)
{
    struct conn *c = arg;
    log_msg(LOG_WARN, "slack: no hello within %d s; dropping the socket", HELLO_TIMEOUT_MS / 1000);
    ws_abort(c->ws);
}

/* Reads the answer to auth.test or apps.connections.open. Returns 0 and *a when the call
 * succeeded; otherwise the failure is logged and a retry arranged, or planbot stopped when Slack
 * refused the token for good. */
static int connect_answer(struct plat *p, const struct http_response *r, const char *method,
                          const char *token, struct slack_api *a)
{
    p->opening = 0;
    if (p->stopping || p->fatal)
        return ERR_IO;
    char why[256];
    int64_t wait;
    int rc = api_answer(p, r, a, why, sizeof why, &wait);
    if (!rc && !a->ok) {
        if (slack_error_fatal(a->error)) {
            snprintf(why, sizeof why, "Slack refused the %s", token);
            fail(p, why, a->error);
            return ERR_AUTH;
        }
        snprintf(why, sizeof why, "%s", a->error);
        rc = ERR_INVAL;
    }
    if (!rc && strcmp(method, "auth.test") == 0 && !a->user_id[0]) {
        snprintf(why, sizeof why, "no user_id in the answer");
        rc = ERR_INVAL;
    }
    if (!rc && strcmp(method, "apps.connections.open") == 0 && !a->url[0]) {
        snprintf(why, sizeof why, "no url in the answer");
        rc = ERR_INVAL;
    }
    if (rc) {
        reconnect_failed(&p->rc, wait);
        log_msg(LOG_WARN, "slack: %s failed: %s", method, why);
        want_socket(p, -1);
        return rc;
    }
    reconnect_answered(&p->rc);
    return 0;
}

/* Opens the socket to url, at the numeric address addr (NULL: url names an address). */
static void open_socket(struct plat *p, const char *url, const char *addr)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c) {
        c->p = p;
        c->events_end = &c->events;
        c->next = p->conns;
        p->conns = c;
    }
    char err[256];
    struct ws_options opt = { 0, 0, p->ping_secs, p->timeout_secs, "slack", addr, NULL };
    int rc = ERR_NOMEM;
    if (c && (c->hello_timer = loop_timer_new(p->loop, hello_late, c))) {
        rc = ws_connect(p->loop, url, &opt, &handler, c, &c->ws, err, sizeof err);
        if (rc)
            log_msg(LOG_WARN, "slack: %s", err);
    }
    if (rc) {
        conn_free(c);
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
        return;
    }
    p->fresh = c;
}

static void looked_up(void *ctx, int err, const char *addr, const char *why)
{
    struct plat *p = ctx;
    p->opening = 0;
    if (p->stopping || p->fatal)
        return;
    if (err) {
        log_msg(LOG_WARN, "slack: %s", why);
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
        return;
    }
    open_socket(p, p->socket_url, addr);
}

static void opened(void *ctx, const struct http_response *r)
{
    struct plat *p = ctx;
    struct slack_api a;
    if (connect_answer(p, r, "apps.connections.open", "app-level token (SLACK_APP_TOKEN)", &a))
        return;
    struct ws_url u;
    if (ws_url_parse(a.url, &u)) {
        log_msg(LOG_WARN, "slack: apps.connections.open gave a URL planbot cannot use");
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
        return;
    }
    unsigned char bin[16];
    if (inet_pton(AF_INET, u.host, bin) == 1 || inet_pton(AF_INET6, u.host, bin) == 1) {
        open_socket(p, a.url, NULL);
        return;
    }
    /* a name: looked up on the HTTP worker, since lws would block the loop doing it */
    snprintf(p->socket_url, sizeof p->socket_url, "%s", a.url);
    p->opening = 1;
    if (resolver_lookup(p->resolver, u.host, looked_up, p)) {
        p->opening = 0;
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
    }
}

static void authed(void *ctx, const struct http_response *r)
{
    struct plat *p = ctx;
    struct slack_api a;
    if (connect_answer(p, r, "auth.test", "bot token (SLACK_BOT_TOKEN)", &a))
        return;
    snprintf(p->self_user, sizeof p->self_user, "%s", a.user_id);
    snprintf(p->self_bot, sizeof p->self_bot, "%s", a.bot_id);
    p->authed = 1;
    reconnect_succeeded(&p->rc);
    if (!p->replayed && p->host.replay) { /* what the last stop left unanswered, now it can post */
        p->replayed = 1;
        p->host.replay(p->host.ctx, p);
    }
    log_msg(LOG_INFO, "slack: signed in as user %s (bot %s)", a.user_id,
            a.bot_id[0] ? a.bot_id : "none");
    want_socket(p, 0);
}

/* The retry timer: auth.test first, then a socket URL. */
static void connect_now(void *arg)
{
    struct plat *p = arg;
    if (p->stopping || p->fatal || p->opening || p->fresh)
        return;
    p->opening = 1;
    int rc = p->authed ? call(p, "apps.connections.open", p->app_token, NULL, 0, opened, p)
                       : call(p, "auth.test", p->bot_token, NULL, 0, authed, p);
    if (rc) {
        p->opening = 0;
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
    }
}

/* Arranges a new socket: after delay ms, or after the backoff (reconnect.h) when delay < 0. */
static void want_socket(struct plat *p, int64_t delay)
{
    if (p->stopping || p->fatal || p->opening || p->fresh || loop_timer_armed(p->retry))
        return;
    delay = reconnect_delay(&p->rc, delay);
    if (delay >= 1000)
        log_msg(LOG_INFO, "slack: connecting again in %.1f s", (double)delay / 1000);
    loop_timer_set(p->retry, delay);
}

/* ---- replies ---- */

/* The answer to a chat.postMessage: how the post went, for the outbox. */
static void posted(void *ctx, const struct http_response *r)
{
    struct outbox_item *it = ctx;
    struct plat *p = it->arg;
    struct slack_api a;
    char why[256];
    int64_t wait;
    int rc = api_answer(p, r, &a, why, sizeof why, &wait);
    if (!rc && a.ok) {
        outbox_done(p->outbox, it, OUTBOX_POSTED, 0, NULL);
    } else if (!rc && slack_error_fatal(a.error)) {
        p->bot_refused = 1;
        fail(p, "Slack refused the bot token (SLACK_BOT_TOKEN) when posting", a.error);
        outbox_done(p->outbox, it, OUTBOX_HALTED, 0, a.error);
    } else if (!rc && slack_error_permanent(a.error)) {
        outbox_done(p->outbox, it, OUTBOX_DROPPED, 0, a.error);
    } else {
        outbox_done(p->outbox, it, OUTBOX_RETRY, wait, rc ? why : a.error);
    }
}

static int start_post(void *ctx, struct outbox_item *it)
{
    struct plat *p = ctx;
    struct buf body;
    buf_init(&body, it->len * 6 + 4096);
    int rc = slack_post_body(it->channel, it->thread, it->text, it->len, &body);
    if (!rc)
        rc = call(p, "chat.postMessage", p->bot_token, body.data, body.len, posted, it);
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

static int slack_send(struct plat *p, const struct plat_message *msg, const char *text, size_t len)
{
    int64_t now = p->event_at ? p->event_at : loop_now_ms();
    return outbox_send(p->outbox, msg->channel, msg->thread, msg->user, text, len, &slack_markup,
                       msg->record, now);
}

/* ---- life ---- */

static void slack_close(struct plat *p);

static int slack_open(struct plat **out, const struct plat_host *host, char *err, size_t errlen)
{
    const struct config *cfg = host->cfg;
    struct plat *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    p->host = *host;
    p->loop = host->loop;
    p->pace_ms = config_int(cfg, "slack", "pace_ms");
    p->ping_secs = config_int(cfg, "slack", "ping_secs");
    p->timeout_secs = config_int(cfg, "slack", "timeout_secs");
    reconnect_init(&p->rc, BACKOFF_CAP_MS, STABLE_MS);
    int rc = config_secret("SLACK_APP_TOKEN", config_string(cfg, "slack", "app_token_file"),
                           &p->app_token, err, errlen);
    if (!rc)
        rc = config_secret("SLACK_BOT_TOKEN", config_string(cfg, "slack", "bot_token_file"),
                           &p->bot_token, err, errlen);
    if (!rc && (!p->app_token || !p->bot_token)) {
        snprintf(err, errlen,
                 "%s is not set: set SLACK_APP_TOKEN (xapp-...) and SLACK_BOT_TOKEN (xoxb-...), "
                 "or name files holding them in the configuration (slack.app_token_file, "
                 "slack.bot_token_file)",
                 !p->app_token ? "the app-level token" : "the bot token");
        rc = ERR_USAGE;
    }
    if (!rc && strncmp(p->app_token, "xapp-", 5) != 0) {
        snprintf(err, errlen, "SLACK_APP_TOKEN is not an app-level token (it starts with xapp-)");
        rc = ERR_USAGE;
    }
    if (!rc && strncmp(p->bot_token, "xoxb-", 5) != 0) {
        snprintf(err, errlen, "SLACK_BOT_TOKEN is not a bot token (it starts with xoxb-)");
        rc = ERR_USAGE;
    }
    const char *api_url = config_string(cfg, "slack", "api_url");
    if (!rc && !(p->api_url = strdup(api_url ? api_url : "https://slack.com/api/")))
        rc = ERR_NOMEM;
    if (!rc)
        rc = http_new(&p->http, p->loop, cfg->tls_ca_file, err, errlen);
    if (!rc && resolver_new(&p->resolver, p->loop)) {
        snprintf(err, errlen, "out of memory");
        rc = ERR_NOMEM;
    }
    if (!rc && (!(p->retry = loop_timer_new(p->loop, connect_now, p)) ||
                !(p->seen = seen_new(SEEN)) || !(p->arena = json_arena_new(ARENA))))
        rc = ERR_NOMEM;
    struct outbox_config oc = { "slack", p->pace_ms, INFLIGHT_MAX, OUTBOX_MAX, BACKOFF_CAP_MS, 0 };
    if (!rc && !(p->outbox = outbox_new_on(p->loop, &oc, &outbox_ops, p)))
        rc = ERR_NOMEM;
    if (rc) {
        if (rc == ERR_NOMEM)
            snprintf(err, errlen, "out of memory");
        slack_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* Stops reading (what is not acknowledged, Slack delivers again to whoever serves next) and
 * leaves the rest of the grace time to post the replies queued. */
static void stop_serving(struct plat *p)
{
    if (p->stopping)
        return;
    p->stopping = 1;
    p->stop_deadline = loop_now_ms() + STOP_GRACE_MS;
    loop_timer_cancel(p->retry);
    size_t left = outbox_waiting(p->outbox);
    log_msg(LOG_INFO, "slack: stopping; %zu repl%s to post", left, left == 1 ? "y" : "ies");
    for (struct conn *c = p->conns; c; c = c->next)
        ws_close(c->ws);
}

static int slack_stopped(struct plat *p)
{
    if (*p->stop)
        stop_serving(p);
    if (!p->stopping)
        return 0;
    int idle = outbox_idle(p->outbox);
    if (idle && !p->conns)
        return 1;
    return loop_now_ms() > p->stop_deadline;
}

static int slack_start(struct plat *p, volatile sig_atomic_t *stop)
{
    p->stop = stop;
    log_msg(LOG_INFO, "slack: connecting to %s", p->api_url);
    want_socket(p, 0);
    return 0;
}

static int slack_finish(struct plat *p)
{
    /* what could not be posted in time: each question was acknowledged, so say which */
    outbox_report_unposted(p->outbox);
    log_msg(LOG_INFO, "slack: stopped");
    return p->fatal ? ERR_AUTH : 0;
}

static void slack_close(struct plat *p)
{
    if (!p)
        return;
    http_free(p->http); /* first: no callback may run after this */
    resolver_free(p->resolver);
    loop_timer_free(p->retry);
    outbox_free(p->outbox);
    /* sockets still open are closed with the loop, which calls no handler then */
    while (p->conns)
        conn_free(p->conns);
    while (p->recording) { /* never acknowledged: Slack delivers them again */
        struct pending *e = p->recording;
        p->recording = e->next;
        pending_free(e);
    }
    while (p->spare) {
        struct pending *e = p->spare;
        p->spare = e->next;
        free(e);
    }
    seen_free(p->seen);
    json_arena_free(p->arena);
    free(p->api_url);
    free(p->app_token);
    free(p->bot_token);
    free(p);
}

/* ---- settings ---- */

static int slack_check(const struct config *cfg, const char *origin, char *err, size_t errlen)
{
    return config_check_less(cfg, "slack", "ping_secs", "timeout_secs",
                             "or a quiet socket is dropped before it is pinged", origin, err,
                             errlen);
}

static const struct config_key slack_keys[] = {
    { "api_url", CONFIG_URL, 0, 0, 0, "https://slack.com/api/", "SLACK_API_URL" },
    { "app_token_file", CONFIG_TOKEN_FILE, 0, 0, 0, "xapp-,xox", NULL },
    { "bot_token_file", CONFIG_TOKEN_FILE, 0, 0, 0, "xapp-,xox", NULL },
    { "pace_ms", CONFIG_INT, 0, 60000, 1000, NULL, NULL },
    { "ping_secs", CONFIG_INT, 1, 3600, 10, NULL, NULL },
    { "timeout_secs", CONFIG_INT, 2, 3600, 30, NULL, NULL },
    { "app_token", CONFIG_SECRET, 0, 0, 0, NULL, "SLACK_APP_TOKEN" },
    { "bot_token", CONFIG_SECRET, 0, 0, 0, NULL, "SLACK_BOT_TOKEN" },
    { NULL, CONFIG_INT, 0, 0, 0, NULL, NULL },
};

static const struct config_section slack_settings = { "slack", slack_keys, slack_check };

const struct plat_ops plat_slack = {
    .name = "slack",
    .description = "Slack, through Socket Mode (SLACK_APP_TOKEN, SLACK_BOT_TOKEN)",
    .markup = &slack_markup,
    .caps = PLAT_CAP_LOOP | PLAT_CAP_RECORDS | PLAT_CAP_MODERATORS,
    .settings = &slack_settings,
    .open = slack_open,
    .start = slack_start,
    .stopped = slack_stopped,
    .finish = slack_finish,
    .send = slack_send,
    .close = slack_close,
};
