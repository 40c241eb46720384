/* stream.c - TCP and TLS client connections on libwebsockets' raw role, a transport of the loop
 * (see stream.h).
 *
 * lws connects (method "RAW"), does the TLS handshake and its certificate check, and reports
 * RAW_CONNECTED, RAW_RX, RAW_WRITEABLE and RAW_CLOSE through the loop's one callback, which hands
 * them to stream_event() through the struct loop_conn at the head of each struct stream. As in
 * ws.c, finish() clears the wsi's user data, so callbacks after the end find nothing. */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "err.h"
#include "log.h"

enum { WRITE_BURST_BYTES = 16 * 1024 }; /* written in one WRITEABLE callback, at most */

struct out {
    struct out *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the bytes */
};

struct stream {
    struct loop_conn conn; /* first: the wsi's opaque user data */
    struct lws *wsi;
    const struct stream_handler *h;
    void *ctx;
    struct out *head, *tail;
    size_t queued, max_queue;
    int open, closing, aborting, connecting, failed_early;
    char why[160];
    char name[32];
};

static void free_queue(struct stream *s)
{
    for (struct out *o = s->head, *next; o; o = next) {
        next = o->next;
        free(o);
    }
    s->head = s->tail = NULL;
    s->queued = 0;
}

/* Reports the end once and frees s. */
static void finish(struct stream *s, const char *why)
{
    int destroying = loop_destroying(s->conn.loop);
    if (s->wsi) {
        lws_set_opaque_user_data(s->wsi, NULL);
        if (destroying)
            lws_set_timeout(s->wsi, 1, LWS_TO_KILL_SYNC);
    }
    loop_detach(&s->conn);
    if (!destroying && !s->connecting && s->h->on_close)
        s->h->on_close(s->ctx, s, why);
    free_queue(s);
    free(s);
}

static int writeable(struct stream *s)
{
    if (s->aborting)
        return -1;
    size_t bytes = 0;
    while (s->head && bytes < WRITE_BURST_BYTES) {
        struct out *o = s->head;
        s->head = o->next;
        if (!s->head)
            s->tail = NULL;
        s->queued -= o->len;
        bytes += o->len;
        /* lws keeps what the socket does not take at once and sends it first */
        int w = lws_write(s->wsi, o->data + LWS_PRE, o->len, LWS_WRITE_RAW);
        free(o);
        if (w < 0) {
            snprintf(s->why, sizeof s->why, "writing to the socket failed");
            return -1;
        }
    }
    if (s->head) {
        lws_callback_on_writable(s->wsi);
        return 0;
    }
    if (s->closing) {
        snprintf(s->why, sizeof s->why, "closed by planbot");
        return -1;
    }
    return 0;
}

static int stream_event(struct loop_conn *c, struct lws *wsi, int reason, void *in, size_t len)
{
    struct stream *s = (struct stream *)c;
    switch ((enum lws_callback_reasons)reason) {
    case LWS_CALLBACK_RAW_CONNECTED:
        s->open = 1;
        if (s->head || s->closing)
            lws_callback_on_writable(wsi);
        if (!s->closing && s->h->on_open)
            s->h->on_open(s->ctx, s);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        if (!s->closing && s->h->on_data)
            s->h->on_data(s->ctx, s, in, len);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE: return writeable(s);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[160], tls[160];
        snprintf(why, sizeof why, "%.*s", in && len ? (int)len : 14,
                 in && len ? (const char *)in : "cannot connect");
        loop_take_tls_reason(tls, sizeof tls);
        if (strstr(why, "SSL") && tls[0])
            snprintf(why, sizeof why, "%s", tls);
        lws_set_opaque_user_data(wsi, NULL);
        s->wsi = NULL;
        if (s->connecting) {
            s->failed_early = 1;
            snprintf(s->why, sizeof s->why, "%s", why);
            return 0;
        }
        finish(s, why);
        return 0;
    }
    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY: {
        lws_set_opaque_user_data(wsi, NULL);
        s->wsi = NULL;
        if (s->connecting) {
            s->failed_early = 1;
            return 0;
        }
        char why[160];
        snprintf(why, sizeof why, "%s",
                 s->why[0] ? s->why
                 : s->open ? "the server closed the connection"
                           : "cannot connect");
        finish(s, why);
        return 0;
    }
    default: return 0;
    }
}

static void stream_destroy(struct loop_conn *c)
{
    finish((struct stream *)c, "the loop stopped");
}

static const struct loop_conn_ops stream_conn_ops = { stream_event, stream_destroy };

int stream_connect(struct loop *l, const struct stream_options *opt, const struct stream_handler *h,
                   void *ctx, struct stream **out, char *err, size_t errlen)
{
    struct stream *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    s->conn.ops = &stream_conn_ops;
    s->conn.loop = l;
    s->h = h;
    s->ctx = ctx;
    s->max_queue = opt->max_queue ? opt->max_queue : 1024 * 1024;
    snprintf(s->name, sizeof s->name, "%s", opt->log_name ? opt->log_name : "stream");

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = loop_lws(l);
    ci.address = opt->address ? opt->address : opt->host;
    ci.port = opt->port;
    ci.host = opt->host;
    ci.method = "RAW";
    ci.ssl_connection = opt->tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = loop_protocol();
    ci.opaque_user_data = s;
    ci.pwsi = &s->wsi;

    s->connecting = 1;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    s->connecting = 0;
    if (!wsi || s->failed_early) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", opt->host, opt->port,
                 s->why[0] ? s->why : "libwebsockets refused the connection");
        free(s);
        return ERR_IO;
    }
    loop_attach(l, &s->conn);
    *out = s;
    return 0;
}

int stream_send(struct stream *s, const char *data, size_t len)
{
    if (s->closing || !s->wsi)
        return ERR_IO;
    if (s->queued + len > s->max_queue)
        return ERR_TOOBIG;
    struct out *o = malloc(sizeof *o + LWS_PRE + len);
    if (!o)
        return ERR_NOMEM;
    o->next = NULL;
    o->len = len;
    memcpy(o->data + LWS_PRE, data, len);
    if (s->tail)
        s->tail->next = o;
    else
        s->head = o;
    s->tail = o;
    s->queued += len;
    if (s->open)
        lws_callback_on_writable(s->wsi);
    return 0;
}

size_t stream_queued(const struct stream *s)
{
    return s->queued;
}

void stream_close(struct stream *s)
{
    if (s->closing)
        return;
    s->closing = 1;
    if (s->wsi && s->open)
        lws_callback_on_writable(s->wsi);
    else if (s->wsi)
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void stream_abort(struct stream *s)
{
    s->closing = s->aborting = 1;
    snprintf(s->why, sizeof s->why, "dropped by planbot");
    if (s->wsi)
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int stream_is_open(const struct stream *s)
{
    return s->open && !s->closing;
}
