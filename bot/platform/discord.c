/* discord.c - the Discord adapter: the Gateway (v10, JSON) over a WebSocket for events, the REST
 * API for the rest (see protocols.md §3).
 *
 * It asks GET /gateway/bot where the Gateway is and how many session starts are left (none left:
 * it waits until Discord gives them back), connects, and on Hello heartbeats at the interval
 * given (the first beat at a random point of it) and identifies, or resumes the session it had.
 * A beat that was not acknowledged by the next one means a zombie connection: dropped, and the
 * session resumed on resume_gateway_url, where Discord replays what was missed. RECONNECT and a
 * resumable Invalid Session resume too; a close that ends the session, or an Invalid Session
 * that cannot be resumed, starts a new one, after which planbot reads the history of the
 * channels it was asked in since the last message it saw, as the replay is lost; a close code
 * that forbids reconnecting (4004, 4010-4014) stops it with what to fix.
 *
 * It answers every direct message and every message in a server channel that mentions it, as a
 * reply (message_reference) that can ping no one. Each question is recorded in the inbox before
 * it is taken, so a crash between receipt and reply is answered at the next start. Replies go
 * through the shared outbox, one channel at a time: a channel whose rate-limit bucket is used up
 * (X-RateLimit-Remaining: 0) waits for X-RateLimit-Reset-After, a 429 holds that channel for its
 * retry_after, a global one holds everything. Moderators are Discord user ids, or, optionally,
 * the members holding one role id (read from the message's member object). */
#include "plat.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "discord_codec.h"
#include "err.h"
#include "http.h"
#include "json_arena.h"
#include "log.h"
#include "outbox.h"
#include "reconnect.h"
#include "resolver.h"
#include "seen.h"
#include "ws.h"

enum {
    SEEN = 8192,              /* message ids remembered, so that one is answered once */
    ARENA = 64 * 1024,        /* bytes for the tree of one frame */
    INFLIGHT_MAX = 4,         /* posts in flight at once (each channel: one) */
    OUTBOX_MAX = 100000,      /* parts waiting; more is ERR_TOOBIG */
    HELLO_TIMEOUT_MS = 10000, /* a socket that says no Hello is dropped */
    STOP_GRACE_MS = 5000,     /* on SIGTERM: time left to post the replies queued */
    BACKOFF_CAP_MS = 60000,
    STABLE_MS = 10000,      /* a session that served this long resets the backoff */
    CHANNELS_MAX = 1024,    /* channels remembered for the catch-up after a new session */
    HISTORY_PAGES_MAX = 10, /* pages of 100 read per channel in one catch-up */
    CATCHUP_INFLIGHT = 2,   /* channels read at once: the replies keep most of the global limit */
    CATCHUP_TRIES = 5,      /* a page that fails (no answer, 5xx) is asked for again so often */
    RECORD_TRIES = 30,      /* a question the inbox cannot take is offered again so often, */
    RECORD_RETRY_MS = 2000, /* this far apart: a minute, then it is lost, and says so */
    RESUME_TRIES = 3,       /* connections to the resume URL that never resume: then identify */
    RESUME_CLOSE = 4000,    /* the close status planbot sends when it means to resume */
    WS_PING_SECS = 60,      /* the heartbeat is the check that counts; these are a backstop */
    WS_HANGUP_SECS = 180,
};

/* What planbot does after it closes the socket itself. */
enum after { AFTER_PEER, AFTER_RESUME, AFTER_IDENTIFY };

/* A channel planbot was asked in, for the catch-up: the newest message it saw there. */
struct chan {
    char id[DC_ID_MAX];
    char newest[DC_ID_MAX];
    int direct;
};

/* A question being recorded by the host. */
struct pending {
    struct pending *next;
    struct plat *p;
    struct dc_message msg; /* owned */
    int direct, by_role;
    int tries;                /* records refused so far */
    struct loop_timer *again; /* the next try, once one was refused; owned */
};

/* A page of a channel's history being read (the catch-up). */
struct catchup {
    struct catchup *next;
    struct plat *p;
    struct chan chan;         /* newest: read the messages after it */
    int pages;                /* read so far */
    int tries;                /* failures of this page so far */
    int started;              /* reading (or waiting to read again): takes one of the slots */
    struct loop_timer *again; /* after a 429, a failure, or a used-up bucket */
};

struct plat {
    struct plat_host host;
    struct loop *loop;
    struct http *http;
    struct resolver *resolver;
    char *api, *token; /* owned; the API's base ending in '/'; the token is never logged */
    int pace_ms, timeout_secs;
    unsigned intents;
    char role_id[DC_ID_MAX]; /* moderators' role ("": none) */
    char self_id[DC_ID_MAX], self_name[DC_NAME_MAX];
    /* the Gateway */
    char gateway_url[DC_URL_MAX];
    char session_id[DC_SESSION_MAX], resume_url[DC_URL_MAX]; /* "": no session to resume */
    int64_t seq;                                             /* the last dispatch's s; -1: none */
    struct ws *ws;                                           /* the socket, or NULL */
    int hello, ready; /* the socket said Hello; its session is ready (or resumed) */
    int64_t ready_at;
    int heartbeat_ms, acked; /* the interval; the last beat was acknowledged */
    enum after after;        /* planbot closed the socket, and why */
    int64_t next_delay;      /* the delay asked for the next connection (-1: backoff) */
    int opening, replayed, served;
    int resume_tries;     /* connections to resume_url since the session last served */
    int catchups_running; /* catch-ups started and not yet done (at most CATCHUP_INFLIGHT) */
    int catchup_due;      /* the next READY starts a session after one that was lost */
    struct reconnect rc;
    struct loop_timer *retry, *beat, *hello_timer;
    volatile sig_atomic_t *stop;
    int stopping, fatal;
    int64_t stop_deadline;
    struct seen *seen;
    struct json_arena *arena;
    struct outbox *outbox;
    struct pending *recording;
    struct catchup *catchups;
    struct chan *chans;
    size_t nchans;
    char socket_url[DC_URL_MAX + 64];
};

static void want_socket(struct plat *p, int64_t delay);
static void stop_serving(struct plat *p);

static void fail(struct plat *p, const char *what)
{
    log_msg(LOG_ERROR, "discord: %s; stopping", what);
    p->fatal = 1;
    stop_serving(p);
}

static void arena_end(struct plat *p, int token)
{
    size_t left = json_arena_end(p->arena, token);
    if (left)
        log_msg(LOG_ERROR, "discord: %zu JSON allocations outlived their frame (a bug)", left);
}

static const struct dc_lookfor *lookfor(const struct plat *p, struct dc_lookfor *l)
{
    l->self_id = p->self_id;
    l->role_id = p->role_id;
    return l;
}

/* ---- REST ---- */

static int call(struct plat *p, const char *method, const char *path, const char *json, size_t len,
                http_done_fn done, void *ctx)
{
    char url[4096];
    if ((size_t)snprintf(url, sizeof url, "%sv10/%s", p->api, path) >= sizeof url)
        return ERR_TOOBIG;
    static const char *const headers[] = {
        "User-Agent: DiscordBot (https://github.com/planbot/planbot, 1.0)", NULL
    };
    struct http_request req = { .method = method,
                                .url = url,
                                .bearer = p->token,
                                .auth_scheme = "Bot",
                                .content_type = json ? "application/json" : NULL,
                                .body = json,
                                .body_len = len,
                                .headers = headers,
                                .timeout_ms = (long)p->timeout_secs * 1000,
                                .want_ratelimit = 1 };
    int rc = http_call(p->http, &req, done, ctx);
    if (rc)
        log_msg(LOG_ERROR, "discord: cannot call %s %s: %s", method, path, err_str(rc));
    return rc;
}

/* The wait a 429 asks for, in ms: the body's retry_after, else Retry-After, else the bucket's
 * reset; at least 50 ms. */
static int64_t rate_wait_ms(const struct http_response *r, const struct dc_error *e)
{
    double secs = e->retry_after >= 0        ? e->retry_after
                  : r->retry_after >= 0      ? r->retry_after
                  : r->rate.reset_after >= 0 ? r->rate.reset_after
                                             : 1;
    if (secs > DC_RETRY_MAX_S)
        secs = DC_RETRY_MAX_S;
    int64_t ms = (int64_t)(secs * 1000 + 0.999);
    return ms < 50 ? 50 : ms;
}

/* Why an answer failed, for the log: the status, and Discord's code and message. */
static void why_failed(const struct http_response *r, const struct dc_error *e, char *why,
                       size_t len)
{
    if (r->err)
        snprintf(why, len, "%s", r->errmsg);
    else if (e->code || e->message[0])
        snprintf(why, len, "HTTP status %ld, code %d: %s", r->status, e->code, e->message);
    else
        snprintf(why, len, "HTTP status %ld", r->status);
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
static struct chan *chan_note(struct plat *p, const char *id, int direct)
{
    struct chan *c = chan_find(p, id);
    if (c || p->nchans >= CHANNELS_MAX)
        return c;
    struct chan *grown = realloc(p->chans, (p->nchans + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    p->chans = grown;
    c = &grown[p->nchans++];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    c->direct = direct;
    return c;
}

/* Notes the newest message seen in a known channel: the catch-up reads after it. */
static void chan_saw(struct plat *p, const struct dc_message *m)
{
    struct chan *c = chan_find(p, m->channel_id);
    if (c && (!c->newest[0] || dc_snowflake_cmp(m->id, c->newest) > 0))
        snprintf(c->newest, sizeof c->newest, "%s", m->id);
}

static void pending_free(struct pending *e)
{
    if (e) {
        loop_timer_free(e->again);
        dc_message_free(&e->msg);
        free(e);
    }
}

static void unlink_pending(struct plat *p, struct pending *e)
{
    for (struct pending **pp = &p->recording; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
}

static struct plat_message message(struct pending *e, int64_t record)
{
    const struct dc_message *q = &e->msg;
    /* a reply threads nothing on Discord: a follow-up continues the asker's conversation in
     * the channel (a direct message's is the channel's) */
    struct plat_message m = { q->author_id,
                              q->channel_id,
                              q->id,
                              q->text,
                              q->text_len,
                              e->direct,
                              0,
                              record,
                              e->by_role,
                              e->direct ? "" : q->author_id };
    return m;
}

static void submit(struct plat *p, struct pending *e);

static void submit_again(void *arg)
{
    struct pending *e = arg;
    submit(e->p, e);
}

/* The inbox could not take e (locked, a full disk, too many waiting): Discord sends nothing
 * twice, so planbot offers it again a while later, and gives up on it only after a minute. */
static void record_failed(struct plat *p, struct pending *e, int rc)
{
    if (!p->stopping && e->tries++ < RECORD_TRIES &&
        (e->again || (e->again = loop_timer_new(p->loop, submit_again, e)))) {
        if (e->tries == 1)
            log_msg(LOG_WARN, "discord: cannot record message %s (%s); trying again every %d s",
                    e->msg.id, err_str(rc), RECORD_RETRY_MS / 1000);
        loop_timer_set(e->again, RECORD_RETRY_MS);
        return;
    }
    log_msg(LOG_ERROR, "discord: cannot record message %s (%s); it is not answered", e->msg.id,
            err_str(rc));
    unlink_pending(p, e);
    pending_free(e);
}

static void recorded(void *arg, int rc, int64_t record)
{
    struct pending *e = arg;
    struct plat *p = e->p;
    if (rc && rc != ERR_EXISTS) {
        record_failed(p, e, rc);
        return;
    }
    unlink_pending(p, e);
    seen_add(p->seen, seen_key("message", e->msg.id));
    if (rc == ERR_EXISTS) {
        log_msg(LOG_INFO, "discord: message %s was answered before: not again", e->msg.id);
    } else if (!p->stopping) { /* stopping: its record stays open; the next start answers it */
        struct plat_message m = message(e, record);
        p->host.on_message(p->host.ctx, p, &m);
    }
    pending_free(e);
}

/* Offers e (on p->recording) to the host's inbox: recorded() follows, unless it is refused at
 * once. */
static void submit(struct plat *p, struct pending *e)
{
    struct plat_message pm = message(e, 0);
    int rc = p->host.record(p->host.ctx, "discord", e->msg.id, &pm, recorded, e);
    if (rc)
        record_failed(p, e, rc);
}

/* Takes a message: answers it when it is a question to planbot, once. Takes m's text when it
 * does. direct: it was said in a direct message (a Gateway event says so by having no
 * guild_id; the REST history never carries guild_id, so there the channel's kind tells). */
static void take(struct plat *p, struct dc_message *m, int direct)
{
    chan_saw(p, m);
    if (strcmp(m->author_id, p->self_id) == 0 || m->author_bot || m->webhook ||
        (m->type != 0 && m->type != 19) || !m->author_id[0])
        return; /* planbot's own, another bot's, a webhook's, or a system message */
    int named;
    m->text_len = dc_text_plain(m->text, m->text_len, p->self_id, &named);
    if (!direct && !m->mentions_self && !named)
        return; /* a plain message in a server channel: only mentions are answered there */
    if (seen_has(p->seen, seen_key("message", m->id)))
        return; /* answered already (the Gateway's replay, then the catch-up) */
    if (chan_note(p, m->channel_id, direct))
        chan_saw(p, m); /* a channel new to the catch-up starts at this message */
    struct pending *e = calloc(1, sizeof *e);
    if (!e) {
        log_msg(LOG_WARN, "discord: out of memory; message %s is not answered", m->id);
        return;
    }
    e->p = p;
    e->msg = *m;
    e->direct = direct;
    e->by_role = p->role_id[0] && m->has_role;
    memset(m, 0, sizeof *m); /* moved into e */
    e->next = p->recording;
    p->recording = e;
    submit(p, e);
}

/* ---- the catch-up after a new session ---- */

static void read_page(struct catchup *c);

/* Starts the catch-ups waiting, while fewer than CATCHUP_INFLIGHT are under way. */
static void catchups_pump(struct plat *p)
{
    for (struct catchup *c = p->catchups; c && p->catchups_running < CATCHUP_INFLIGHT;) {
        struct catchup *next = c->next;
        if (!c->started && !p->stopping) {
            c->started = 1;
            p->catchups_running++;
            read_page(c); /* may free c */
        }
        c = next;
    }
}

static void catchup_free(struct catchup *c)
{
    struct plat *p = c->p;
    for (struct catchup **pp = &p->catchups; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->started)
        p->catchups_running--;
    loop_timer_free(c->again);
    free(c);
}

/* Done with c: the next waiting one may start. */
static void catchup_done(struct catchup *c)
{
    struct plat *p = c->p;
    catchup_free(c);
    catchups_pump(p);
}

static void page_read(void *ctx, const struct http_response *r)
{
    struct catchup *c = ctx;
    struct plat *p = c->p;
    struct dc_error e;
    char why[320];
    if (r->status == 429) {
        dc_error_parse(r->body, r->len, &e);
        int64_t wait = rate_wait_ms(r, &e);
        log_msg(LOG_INFO, "discord: rate limited reading %s; again in %.1f s", c->chan.id,
                (double)wait / 1000);
        loop_timer_set(c->again, wait);
        return;
    }
    if (r->status != 200) {
        dc_error_parse(r->body, r->len, &e);
        why_failed(r, &e, why, sizeof why);
        /* no answer, or the server's trouble (an outage often ends a session): again later */
        if ((r->status == 0 || r->status >= 500) && c->tries++ < CATCHUP_TRIES && !p->stopping) {
            int64_t wait = reconnect_backoff_ms((unsigned)c->tries, BACKOFF_CAP_MS);
            log_msg(LOG_WARN,
                    "discord: cannot read what was said in %s while away (%s); again in "
                    "%.1f s",
                    c->chan.id, why, (double)wait / 1000);
            loop_timer_set(c->again, wait);
            return;
        }
        log_msg(LOG_WARN, "discord: cannot read what was said in %s while away: %s", c->chan.id,
                why);
        catchup_done(c);
        return;
    }
    struct dc_message *list;
    size_t n;
    struct dc_lookfor look;
    int token = json_arena_begin(p->arena);
    int bad = dc_messages_parse(r->body, r->len, lookfor(p, &look), &list, &n, why, sizeof why);
    arena_end(p, token);
    if (bad) {
        log_msg(LOG_WARN, "discord: ignored a history of %s planbot cannot read: %s", c->chan.id,
                why);
        catchup_done(c);
        return;
    }
    c->tries = 0;
    if (n)
        log_msg(LOG_DEBUG, "discord: read %zu messages of %s said while away", n, c->chan.id);
    for (size_t i = 0; i < n && !p->stopping; i++) {
        if (dc_snowflake_cmp(list[i].id, c->chan.newest) > 0)
            snprintf(c->chan.newest, sizeof c->chan.newest, "%s", list[i].id);
        take(p, &list[i], c->chan.direct);
    }
    dc_messages_free(list, n);
    if (n == DC_MESSAGES_MAX && ++c->pages < HISTORY_PAGES_MAX && !p->stopping) {
        /* a full page: there is more after it, once the route's bucket allows */
        if (r->rate.remaining == 0 && r->rate.reset_after > 0)
            loop_timer_set(c->again, (int64_t)(r->rate.reset_after * 1000 + 0.999));
        else
            read_page(c);
    } else {
        catchup_done(c);
    }
}

static void read_page(struct catchup *c)
{
    char path[2 * DC_ID_MAX + 64];
    snprintf(path, sizeof path, "channels/%s/messages?after=%s&limit=%d", c->chan.id,
             c->chan.newest, DC_MESSAGES_MAX);
    if (call(c->p, "GET", path, NULL, 0, page_read, c))
        catchup_free(c); /* not pumped from here: the caller goes on */
}

static void read_again(void *arg)
{
    read_page(arg);
}

/* After a new session: reads, in every channel planbot was asked in, what was said after the
 * newest message it saw there (the old session's replay is lost with it), a few channels at a
 * time so that Discord's global limit stays the replies'. */
static void catch_up(struct plat *p)
{
    for (size_t i = 0; i < p->nchans; i++) {
        struct catchup *c = p->catchups;
        while (c && strcmp(c->chan.id, p->chans[i].id) != 0)
            c = c->next;
        if (c || !p->chans[i].newest[0])
            continue; /* being read already (an earlier catch-up), or nothing seen there */
        c = calloc(1, sizeof *c);
        if (!c || !(c->again = loop_timer_new(p->loop, read_again, c))) {
            free(c);
            log_msg(LOG_WARN, "discord: out of memory; not reading what was said while away");
            break;
        }
        c->p = p;
        c->chan = p->chans[i];
        c->next = p->catchups;
        p->catchups = c;
    }
    catchups_pump(p);
}

/* ---- the Gateway ---- */

static int send_frame(struct plat *p, int (*make)(struct plat *, struct buf *), const char *what)
{
    struct buf b;
    buf_init(&b, 8192);
    int rc = make(p, &b);
    if (!rc)
        rc = ws_send(p->ws, b.data, b.len);
    buf_free(&b); /* may hold the token; never logged */
    if (rc)
        log_msg(LOG_WARN, "discord: cannot send %s: %s", what, err_str(rc));
    return rc;
}

static int make_identify(struct plat *p, struct buf *b)
{
    return dc_identify_frame(p->token, p->intents, b);
}

static int make_resume(struct plat *p, struct buf *b)
{
    return dc_resume_frame(p->token, p->session_id, p->seq, b);
}

static int make_heartbeat(struct plat *p, struct buf *b)
{
    return dc_heartbeat_frame(p->seq, b);
}

/* Closes the socket meaning to go on as after says. */
static void close_for(struct plat *p, enum after after, int64_t delay)
{
    if (!p->ws)
        return;
    p->after = after;
    p->next_delay = delay;
    loop_timer_cancel(p->beat); /* no beat may decide otherwise while it closes */
    ws_close_code(p->ws, RESUME_CLOSE);
}

static void forget_session(struct plat *p)
{
    p->session_id[0] = p->resume_url[0] = '\0';
    p->seq = -1;
    p->resume_tries = 0;
}

static void beat(void *arg)
{
    struct plat *p = arg;
    if (!p->ws || !p->hello || !ws_is_open(p->ws))
        return;
    if (!p->acked) {
        log_msg(LOG_WARN,
                "discord: the last heartbeat was not acknowledged: the connection is dead; "
                "resuming on a new one");
        p->after = AFTER_RESUME;
        p->next_delay = -1;
        ws_abort(p->ws); /* a zombie completes no close handshake */
        return;
    }
    if (send_frame(p, make_heartbeat, "a heartbeat"))
        return;
    p->acked = 0;
    loop_timer_set(p->beat, p->heartbeat_ms);
}

static void on_hello(struct plat *p, int interval)
{
    p->hello = 1;
    p->acked = 1;
    p->heartbeat_ms = interval;
    loop_timer_cancel(p->hello_timer);
    /* the first beat at a random point of the interval, so that many clients do not beat in
     * step after an outage */
    loop_timer_set(p->beat,
                   (int64_t)((double)interval * ((double)rand() / ((double)RAND_MAX + 1))));
    if (p->session_id[0]) {
        log_msg(LOG_DEBUG, "discord: resuming session at seq %lld", (long long)p->seq);
        send_frame(p, make_resume, "Resume");
    } else {
        send_frame(p, make_identify, "Identify");
    }
}

static void on_ready(struct plat *p, const struct dc_frame *f)
{
    snprintf(p->session_id, sizeof p->session_id, "%s", f->session_id);
    snprintf(p->resume_url, sizeof p->resume_url, "%s",
             f->resume_url[0] ? f->resume_url : p->gateway_url);
    snprintf(p->self_id, sizeof p->self_id, "%s", f->self_id);
    snprintf(p->self_name, sizeof p->self_name, "%s", f->self_name);
    p->ready = 1;
    p->ready_at = loop_now_ms();
    p->resume_tries = 0;
    reconnect_succeeded(&p->rc);
    log_msg(LOG_INFO, "discord: connected as %s (user %s)", p->self_name, p->self_id);
    if (!p->replayed && p->host.replay) {
        p->replayed = 1;
        p->host.replay(p->host.ctx, p);
    }
    if (p->catchup_due)
        catch_up(p);
    p->catchup_due = 0;
    p->served = 1;
}

static void on_text(void *ctx, struct ws *ws, const char *data, size_t len)
{
    struct plat *p = ctx;
    if (p->stopping || ws != p->ws)
        return;
    struct dc_frame f;
    struct dc_lookfor look;
    char err[256];
    int token = json_arena_begin(p->arena);
    int bad = dc_frame_parse(data, len, lookfor(p, &look), &f, err, sizeof err);
    arena_end(p, token);
    if (bad) {
        log_msg(LOG_WARN, "discord: ignored a frame planbot cannot read (%zu bytes): %s", len, err);
        return;
    }
    if (f.seq >= 0 && f.op == DC_OP_DISPATCH)
        p->seq = f.seq;
    switch (f.op) {
    case DC_OP_HELLO: on_hello(p, f.heartbeat_ms); break;
    case DC_OP_HEARTBEAT: send_frame(p, make_heartbeat, "a heartbeat"); break;
    case DC_OP_HEARTBEAT_ACK: p->acked = 1; break;
    case DC_OP_RECONNECT:
        log_msg(LOG_INFO, "discord: the Gateway asks planbot to reconnect; resuming");
        close_for(p, AFTER_RESUME, 0);
        break;
    case DC_OP_INVALID_SESSION:
        if (f.resumable) {
            log_msg(LOG_INFO, "discord: the session was interrupted; resuming");
            close_for(p, AFTER_RESUME, 1000 + rand() % 4000);
        } else {
            log_msg(LOG_INFO, "discord: the session cannot be resumed; starting a new one");
            forget_session(p);
            p->catchup_due = p->served;
            close_for(p, AFTER_IDENTIFY, 1000 + rand() % 4000); /* Discord asks for 1-5 s */
        }
        break;
    case DC_OP_DISPATCH:
        if (f.event == DC_EV_READY) {
            on_ready(p, &f);
        } else if (f.event == DC_EV_RESUMED) {
            p->ready = 1;
            p->ready_at = loop_now_ms();
            p->resume_tries = 0;
            reconnect_succeeded(&p->rc);
            log_msg(LOG_INFO, "discord: resumed the session at seq %lld", (long long)p->seq);
        } else if (f.event == DC_EV_MESSAGE_CREATE && p->self_id[0]) {
            take(p, &f.msg, !f.msg.guild_id[0]);
        }
        break;
    default: break;
    }
    dc_frame_free(&f);
}

static void on_open(void *ctx, struct ws *ws)
{
    struct plat *p = ctx;
    (void)ws;
    loop_timer_set(p->hello_timer, HELLO_TIMEOUT_MS);
}

static void on_close(void *ctx, struct ws *ws, int code, const char *why)
{
    struct plat *p = ctx;
    if (ws != p->ws)
        return;
    p->ws = NULL;
    loop_timer_cancel(p->beat);
    loop_timer_cancel(p->hello_timer);
    reconnect_closed(&p->rc, p->ready ? loop_now_ms() - p->ready_at : 0);
    p->hello = p->ready = 0;
    enum after after = p->after;
    int64_t delay = p->next_delay;
    p->after = AFTER_PEER;
    p->next_delay = -1;
    if (p->stopping || p->fatal)
        return;
    if (after == AFTER_PEER) {
        const char *fatal;
        enum dc_close_verdict v = dc_close_verdict(code, &fatal);
        if (v == DC_CLOSE_FATAL) {
            fail(p, fatal);
            return;
        }
        if (code)
            log_msg(LOG_INFO, "discord: disconnected (%s, status %d)", why, code);
        else
            log_msg(LOG_INFO, "discord: disconnected (%s)", why);
        if (v == DC_CLOSE_IDENTIFY && p->session_id[0]) {
            forget_session(p);
            p->catchup_due = p->served;
        }
    }
    want_socket(p, delay);
}

static const struct ws_handler handler = { on_open, on_text, on_close, NULL };

static void hello_late(void *arg)
{
    struct plat *p = arg;
    log_msg(LOG_WARN, "discord: no Hello within %d s; dropping the socket",
            HELLO_TIMEOUT_MS / 1000);
    if (p->ws)
        ws_abort(p->ws);
}

static void open_socket(struct plat *p, const char *addr)
{
    char err[256];
    struct ws_options opt = { 0, 0, WS_PING_SECS, WS_HANGUP_SECS, "discord", addr, NULL };
    int rc = ws_connect(p->loop, p->socket_url, &opt, &handler, p, &p->ws, err, sizeof err);
    if (rc) {
        log_msg(LOG_WARN, "discord: %s", err);
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
        log_msg(LOG_WARN, "discord: %s", why);
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
        return;
    }
    open_socket(p, addr);
}

/* Opens the socket to base (the Gateway, or the session's resume URL) with ?v=10&encoding=json,
 * looking a host name up off the loop. */
static void connect_socket(struct plat *p, const char *base)
{
    struct ws_url u;
    if (dc_socket_url(base, p->socket_url, sizeof p->socket_url) ||
        ws_url_parse(p->socket_url, &u)) {
        log_msg(LOG_WARN, "discord: the Gateway URL \"%s\" is not one planbot can use", base);
        forget_session(p);
        p->gateway_url[0] = '\0';
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
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

static void got_gateway(void *ctx, const struct http_response *r)
{
    struct plat *p = ctx;
    p->opening = 0;
    if (p->stopping || p->fatal)
        return;
    struct dc_error e;
    char why[320];
    if (r->status != 200) {
        dc_error_parse(r->body, r->len, &e);
        why_failed(r, &e, why, sizeof why);
        if (r->status == 401 || r->status == 403) {
            char msg[400];
            snprintf(msg, sizeof msg, "Discord refused the bot token (DISCORD_TOKEN): %s", why);
            fail(p, msg);
            return;
        }
        log_msg(LOG_WARN, "discord: GET gateway/bot failed: %s", why);
        reconnect_failed(&p->rc, r->status == 429 ? rate_wait_ms(r, &e) : 0);
        want_socket(p, -1);
        return;
    }
    struct dc_gateway g;
    int token = json_arena_begin(p->arena);
    int bad = dc_gateway_parse(r->body, r->len, &g, why, sizeof why);
    arena_end(p, token);
    if (bad) {
        log_msg(LOG_WARN, "discord: GET gateway/bot gave an answer planbot cannot read: %s", why);
        reconnect_failed(&p->rc, 0);
        want_socket(p, -1);
        return;
    }
    snprintf(p->gateway_url, sizeof p->gateway_url, "%s", g.url);
    if (g.remaining == 0) { /* no session start left: Discord gives them back after reset_after */
        int64_t wait = g.reset_after_ms > 1000 ? g.reset_after_ms : 1000;
        log_msg(LOG_WARN,
                "discord: no session starts are left for today (session_start_limit); starting "
                "one in %.0f s",
                (double)wait / 1000);
        reconnect_failed(&p->rc, wait);
        p->gateway_url[0] = '\0';
        want_socket(p, -1);
        return;
    }
    reconnect_answered(&p->rc);
    connect_socket(p, p->gateway_url);
}

static void connect_now(void *arg)
{
    struct plat *p = arg;
    if (p->stopping || p->fatal || p->opening || p->ws)
        return;
    if (p->session_id[0] && p->resume_tries >= RESUME_TRIES) {
        log_msg(LOG_WARN,
                "discord: the session could not be resumed on %s in %d tries; starting a new one",
                p->resume_url, RESUME_TRIES);
        forget_session(p);
        p->catchup_due = p->served;
    }
    if (p->session_id[0]) { /* a session to resume: straight to its URL */
        p->resume_tries++;
        connect_socket(p, p->resume_url);
        return;
    }
    /* a new session: where the Gateway is, and whether a session may start */
    p->opening = 1;
    if (call(p, "GET", "gateway/bot", NULL, 0, got_gateway, p)) {
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
        log_msg(LOG_INFO, "discord: connecting again in %.1f s", (double)delay / 1000);
    loop_timer_set(p->retry, delay);
}

/* ---- replies ---- */

static void posted(void *ctx, const struct http_response *r)
{
    struct outbox_item *it = ctx;
    struct plat *p = it->arg;
    struct dc_error e;
    char why[320];
    if (r->status == 200 || r->status == 201) {
        /* this channel's bucket is used up: its next post waits for the reset */
        if (r->rate.remaining == 0 && r->rate.reset_after > 0)
            outbox_hold(p->outbox, it->channel, (int64_t)(r->rate.reset_after * 1000 + 0.999));
        outbox_done(p->outbox, it, OUTBOX_POSTED, 0, NULL);
        return;
    }
    dc_error_parse(r->body, r->len, &e);
    why_failed(r, &e, why, sizeof why);
    if (r->status == 429) {
        int global = e.global || r->rate.global;
        outbox_done(p->outbox, it, global ? OUTBOX_RETRY : OUTBOX_LIMITED, rate_wait_ms(r, &e),
                    why);
    } else if (r->status == 401) { /* never tried again: Discord bans what keeps failing */
        fail(p, "Discord refused the bot token (DISCORD_TOKEN) when posting");
        outbox_done(p->outbox, it, OUTBOX_HALTED, 0, why);
    } else if (r->status == 400 || r->status == 403 || r->status == 404) {
        outbox_done(p->outbox, it, OUTBOX_DROPPED, 0, why);
    } else {
        outbox_done(p->outbox, it, OUTBOX_RETRY, 0, why);
    }
}

static int start_post(void *ctx, struct outbox_item *it)
{
    struct plat *p = ctx;
    if (!dc_is_snowflake(it->channel))
        return ERR_INVAL;
    struct buf body;
    buf_init(&body, it->len * 6 + 4096);
    char path[OUTBOX_ID_MAX + 32];
    snprintf(path, sizeof path, "channels/%s/messages", it->channel);
    int rc = dc_reply_body(it->text, it->len, it->thread, it->part < 1000 ? it->part : -1, &body);
    if (!rc)
        rc = call(p, "POST", path, body.data, body.len, posted, it);
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

/* Queues the reply (written in dc_markup: it can ping no one), as a reply to the question. */
static int discord_send(struct plat *p, const struct plat_message *msg, const char *text,
                        size_t len)
{
    if (!dc_is_snowflake(msg->channel))
        return ERR_INVAL;
    return outbox_send(p->outbox, msg->channel, msg->thread, msg->user, text, len, &dc_markup,
                       msg->record, loop_now_ms());
}

/* ---- life ---- */

static void discord_close(struct plat *p);

static int discord_open(struct plat **out, const struct plat_host *host, char *err, size_t errlen)
{
    const struct config *cfg = host->cfg;
    struct plat *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    p->host = *host;
    p->loop = host->loop;
    p->seq = -1;
    p->next_delay = -1;
    p->pace_ms = config_int(cfg, "discord", "pace_ms");
    p->timeout_secs = config_int(cfg, "discord", "timeout_secs");
    p->intents = DC_INTENT_GUILDS | DC_INTENT_GUILD_MESSAGES | DC_INTENT_DIRECT_MESSAGES |
                 (config_int(cfg, "discord", "message_content") ? DC_INTENT_MESSAGE_CONTENT : 0);
    const char *role = config_string(cfg, "discord", "moderator_role");
    snprintf(p->role_id, sizeof p->role_id, "%s", role ? role : "");
    reconnect_init(&p->rc, BACKOFF_CAP_MS, STABLE_MS);
    int rc = config_secret("DISCORD_TOKEN", config_string(cfg, "discord", "token_file"), &p->token,
                           err, errlen);
    if (!rc && !p->token) {
        snprintf(err, errlen,
                 "the bot's token is not set: set DISCORD_TOKEN, or name a file holding it in "
                 "the configuration (discord.token_file)");
        rc = ERR_USAGE;
    }
    if (!rc && !(p->api = strdup(config_string(cfg, "discord", "api_url"))))
        rc = ERR_NOMEM;
    if (!rc)
        rc = http_new(&p->http, p->loop, cfg->tls_ca_file, err, errlen);
    if (!rc && resolver_new(&p->resolver, p->loop)) {
        snprintf(err, errlen, "out of memory");
        rc = ERR_NOMEM;
    }
    if (!rc && (!(p->retry = loop_timer_new(p->loop, connect_now, p)) ||
                !(p->beat = loop_timer_new(p->loop, beat, p)) ||
                !(p->hello_timer = loop_timer_new(p->loop, hello_late, p)) ||
                !(p->seen = seen_new(SEEN)) || !(p->arena = json_arena_new(ARENA))))
        rc = ERR_NOMEM;
    /* the global limit counts every request: the replies keep a few a second for the rest */
    int global = config_int(cfg, "discord", "global_per_second");
    struct outbox_config oc = { "discord",  p->pace_ms,     INFLIGHT_MAX,
                                OUTBOX_MAX, BACKOFF_CAP_MS, global > 10 ? global - 5 : global };
    if (!rc && !(p->outbox = outbox_new_on(p->loop, &oc, &outbox_ops, p)))
        rc = ERR_NOMEM;
    if (rc) {
        if (rc == ERR_NOMEM)
            snprintf(err, errlen, "out of memory");
        discord_close(p);
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
    loop_timer_cancel(p->beat);
    size_t left = outbox_waiting(p->outbox);
    log_msg(LOG_INFO, "discord: stopping; %zu repl%s to post", left, left == 1 ? "y" : "ies");
    if (p->ws)
        ws_close(p->ws); /* 1000: the session ends with planbot */
}

static int discord_stopped(struct plat *p)
{
    if (*p->stop)
        stop_serving(p);
    if (!p->stopping)
        return 0;
    if (outbox_idle(p->outbox) && !p->ws)
        return 1;
    return loop_now_ms() > p->stop_deadline;
}

static int discord_start(struct plat *p, volatile sig_atomic_t *stop)
{
    p->stop = stop;
    log_msg(LOG_INFO, "discord: connecting through %s", p->api);
    want_socket(p, 0);
    return 0;
}

static int discord_finish(struct plat *p)
{
    outbox_report_unposted(p->outbox);
    log_msg(LOG_INFO, "discord: stopped");
    return p->fatal ? ERR_AUTH : 0;
}

static void discord_close(struct plat *p)
{
    if (!p)
        return;
    http_free(p->http); /* first: no callback may run after this */
    resolver_free(p->resolver);
    while (p->catchups)
        catchup_free(p->catchups);
    loop_timer_free(p->retry);
    loop_timer_free(p->beat);
    loop_timer_free(p->hello_timer);
    outbox_free(p->outbox);
    while (p->recording) { /* its record stays open: the next start answers it */
        struct pending *e = p->recording;
        p->recording = e->next;
        pending_free(e);
    }
    seen_free(p->seen);
    json_arena_free(p->arena);
    free(p->chans);
    free(p->api);
    free(p->token);
    free(p);
}

/* ---- settings ---- */

static int discord_check(const struct config *cfg, const char *origin, char *err, size_t errlen)
{
    const char *role = config_string(cfg, "discord", "moderator_role");
    if (role && !dc_is_snowflake(role)) {
        snprintf(err, errlen,
                 "%s: \"discord.moderator_role\" must be a role id (a snowflake, such as "
                 "\"1234567890123456789\": Server Settings, Roles, Copy Role ID), not \"%s\"",
                 origin, role);
        return ERR_INVAL;
    }
    return 0;
}

static const struct config_key discord_keys[] = {
    { "api_url", CONFIG_URL, 0, 0, 0, "https://discord.com/api/", "DISCORD_API_URL" },
    { "token_file", CONFIG_TOKEN_FILE, 0, 0, 0, NULL, NULL },
    { "moderator_role", CONFIG_STRING, 0, 0, 0, NULL, NULL },
    { "message_content", CONFIG_BOOL, 0, 0, 1, NULL, NULL },
    { "pace_ms", CONFIG_INT, 0, 60000, 0, NULL, NULL },
    { "global_per_second", CONFIG_INT, 0, OUTBOX_PER_SECOND_MAX, 50, NULL, NULL },
    { "timeout_secs", CONFIG_INT, 2, 3600, 30, NULL, NULL },
    { "token", CONFIG_SECRET, 0, 0, 0, NULL, "DISCORD_TOKEN" },
    { NULL, CONFIG_INT, 0, 0, 0, NULL, NULL },
};

static const struct config_section discord_settings = { "discord", discord_keys, discord_check };

const struct plat_ops plat_discord = {
    .name = "discord",
    .description = "Discord, through its Gateway (DISCORD_TOKEN)",
    .markup = &dc_markup,
    .caps = PLAT_CAP_LOOP | PLAT_CAP_RECORDS | PLAT_CAP_MODERATORS,
    .settings = &discord_settings,
    .open = discord_open,
    .start = discord_start,
    .stopped = discord_stopped,
    .finish = discord_finish,
    .send = discord_send,
    .close = discord_close,
};
