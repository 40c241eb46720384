/* ws.c - WebSocket client connections on libwebsockets, a transport of the loop (see ws.h).
 *
 * Each struct ws starts with its struct loop_conn, which hangs off its wsi as the opaque user
 * data; the loop hands the wsi's callbacks to ws_event(). finish() clears the user data, so
 * callbacks that lws makes after a connection is reported closed find nothing and do nothing. */
#include "ws.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "buf.h"
#include "err.h"
#include "log.h"

enum {
    WRITE_BURST = 64,             /* messages written in one WRITEABLE callback, at most */
    WRITE_BURST_BYTES = 64 * 1024 /* and bytes: the rest waits for the next callback */
};

struct out {
    struct out *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the message */
};

struct ws {
    struct loop_conn conn; /* first: the wsi's opaque user data */
    struct lws *wsi;
    const struct ws_handler *h;
    void *ctx;
    struct buf rx;           /* the message being reassembled */
    int rx_active;           /* a message has started and not ended */
    int rx_drop;             /* the message is over the cap: skip to its end */
    int rx_binary;           /* the message is binary: skip it */
    struct out *head, *tail; /* send queue */
    size_t queued, max_queue;
    int open, closing, connecting, failed_early;
    int aborting;   /* ws_abort(): no close handshake */
    int peer_code;  /* the close status the peer sent */
    int close_code; /* the close status planbot sends */
    char why[160];  /* why it ended, for on_close */
    char name[32];
};

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
    int destroying = loop_destroying(ws->conn.loop);
    if (ws->wsi) {
        lws_set_opaque_user_data(ws->wsi, NULL);
        if (destroying)
            lws_set_timeout(ws->wsi, 1, LWS_TO_KILL_SYNC);
    }
    loop_detach(&ws->conn);
    if (!destroying && !ws->connecting && ws->h->on_close)
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
        lws_close_reason(ws->wsi, (enum lws_close_status)ws->close_code, (unsigned char *)"bye", 3);
        snprintf(ws->why, sizeof ws->why, "closed by planbot");
        return -1;
    }
    return 0;
}

/* The loop's callback for one of our wsis. */
static int ws_event(struct loop_conn *c, struct lws *wsi, int why_called, void *in, size_t len)
{
    struct ws *ws = (struct ws *)c;
    switch ((enum lws_callback_reasons)why_called) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        ws->open = 1;
        if (ws->closing || ws->head) /* what was queued before the handshake */
            lws_callback_on_writable(wsi);
        if (ws->closing)
            return 0;
        if (ws->h->on_open)
            ws->h->on_open(ws->ctx, ws);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: received(ws, in, len); return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: return writeable(ws);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *code = in;
            ws->peer_code = code[0] << 8 | code[1];
        }
        snprintf(ws->why, sizeof ws->why, "the server closed the connection");
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[160], tls[160];
        snprintf(why, sizeof why, "%.*s", in && len ? (int)len : 14,
                 in && len ? (const char *)in : "cannot connect");
        loop_take_tls_reason(tls, sizeof tls);
        if (strstr(why, "SSL") && tls[0]) /* say why the certificate was refused */
            snprintf(why, sizeof why, "%s", tls);
        lws_set_opaque_user_data(wsi, NULL);
        ws->wsi = NULL; /* lws frees it when it returns */
        if (ws->connecting) {
            ws->failed_early = 1;
            snprintf(ws->why, sizeof ws->why, "%s", why);
            return 0;
        }
        finish(ws, 0, why);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (ws->connecting) { /* failed inside lws_client_connect_via_info() */
            lws_set_opaque_user_data(wsi, NULL);
            ws->wsi = NULL;
            ws->failed_early = 1;
            if (!ws->why[0])
                snprintf(ws->why, sizeof ws->why, "cannot connect");
            return 0;
        }
        {
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

/* loop_free(): gone at once, no handler called. */
static void ws_destroy(struct loop_conn *c)
{
    finish((struct ws *)c, 0, "the loop stopped");
}

static const struct loop_conn_ops ws_conn_ops = { ws_event, ws_destroy };

int ws_connect(struct loop *l, const char *url, const struct ws_options *opt,
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
    ws->conn.ops = &ws_conn_ops;
    ws->conn.loop = l;
    ws->close_code = LWS_CLOSE_STATUS_NORMAL;
    ws->h = h;
    ws->ctx = ctx;
    buf_init(&ws->rx, opt && opt->max_message ? opt->max_message : 1024 * 1024);
    ws->max_queue = opt && opt->max_queue ? opt->max_queue : 4 * 1024 * 1024;
    const lws_retry_bo_t *policy = loop_keepalive(l, opt && opt->ping_secs ? opt->ping_secs : 10,
                                                  opt && opt->hangup_secs ? opt->hangup_secs : 30);
    snprintf(ws->name, sizeof ws->name, "%s", opt && opt->log_name ? opt->log_name : "websocket");

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = loop_lws(l);
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
    ci.protocol = opt ? opt->protocols : NULL;
    ci.local_protocol_name = loop_protocol();
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
    loop_attach(l, &ws->conn);
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
    ws_close_code(ws, LWS_CLOSE_STATUS_NORMAL);
}

void ws_close_code(struct ws *ws, int code)
{
    if (ws->closing)
        return;
    ws->closing = 1;
    /* 1004-1006 and 1015 are never sent (RFC 6455, 7.4.1), nor the unassigned 1016-2999 */
    int sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                   (code >= 3000 && code <= 4999);
    ws->close_code = sendable ? code : LWS_CLOSE_STATUS_NORMAL;
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
