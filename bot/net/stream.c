/* stream.c - TCP and TLS client connections on libwebsockets' raw role, a transport of the loop
 * (see stream.h).
 *
 * lws connects (method "RAW") and reports RAW_CONNECTED, RAW_RX, RAW_WRITEABLE and RAW_CLOSE
 * through the loop's one callback, which hands them to stream_event() through the struct
 * loop_conn at the head of each struct stream. As in ws.c, finish() clears the wsi's user data,
 * so callbacks after the end find nothing.
 *
 * TLS is done here, with OpenSSL over a pair of memory BIOs, not by lws: lws 4.1's raw role starts
 * its TLS handshake before the TCP connection is up (SSL_connect() on a socket not yet connected
 * fails with EBADF: warmcat/libwebsockets#2916), so a raw TLS client never connects. The bytes
 * lws reads go into the read BIO; what OpenSSL writes into the write BIO is queued for lws to
 * send. The certificate is verified against the loop's CA file or the system's, and its name
 * (or IP address) against the host. */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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
    /* TLS, when asked for */
    SSL_CTX *tls_ctx; /* owned */
    SSL *tls;         /* owned; NULL: plain TCP */
    BIO *rbio, *wbio; /* owned by tls: ciphertext in, ciphertext out */
    int want_tls, handshaken;
    struct out *early, *early_tail; /* plaintext sent before the handshake is done */
    char host[256];
    char why[160];
    char name[32];
};

static int queue_raw(struct stream *s, const void *data, size_t len);

static void free_queue(struct stream *s)
{
    for (struct out *o = s->head, *next; o; o = next) {
        next = o->next;
        free(o);
    }
    s->head = s->tail = NULL;
    s->queued = 0;
    for (struct out *o = s->early, *next; o; o = next) {
        next = o->next;
        free(o);
    }
    s->early = s->early_tail = NULL;
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
    SSL_free(s->tls); /* frees its BIOs */
    SSL_CTX_free(s->tls_ctx);
    free(s);
}

/* ---- TLS over memory BIOs ---- */

/* Why OpenSSL failed, for the log: the certificate's verdict when there is one. */
static void tls_why(struct stream *s, const char *what)
{
    long v = s->tls ? SSL_get_verify_result(s->tls) : X509_V_OK;
    unsigned long e = ERR_get_error();
    char detail[120] = "";
    if (v != X509_V_OK)
        snprintf(detail, sizeof detail, "the certificate was refused: %s",
                 X509_verify_cert_error_string(v));
    else if (e)
        ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    snprintf(s->why, sizeof s->why, "TLS %s failed%s%s", what, detail[0] ? ": " : "", detail);
}

/* Queues what OpenSSL wrote for the peer. */
static int tls_flush(struct stream *s)
{
    char chunk[16 * 1024];
    int n;
    while ((n = BIO_read(s->wbio, chunk, sizeof chunk)) > 0)
        if (queue_raw(s, chunk, (size_t)n))
            return -1;
    return 0;
}

static int tls_start(struct stream *s)
{
    const char *ca = loop_ca_file(s->conn.loop);
    if (!(s->tls_ctx = SSL_CTX_new(TLS_client_method())))
        return -1;
    SSL_CTX_set_min_proto_version(s->tls_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(s->tls_ctx, SSL_VERIFY_PEER, NULL);
    if (ca ? SSL_CTX_load_verify_locations(s->tls_ctx, ca, NULL) != 1
           : loop_trust_system_cas(s->tls_ctx) != 0) {
        tls_why(s, "setup (the CA file)");
        return -1;
    }
    if (!(s->tls = SSL_new(s->tls_ctx)) || !(s->rbio = BIO_new(BIO_s_mem())) ||
        !(s->wbio = BIO_new(BIO_s_mem()))) {
        BIO_free(s->rbio);
        s->rbio = NULL;
        return -1;
    }
    SSL_set_bio(s->tls, s->rbio, s->wbio);
    unsigned char bin[16];
    int numeric = inet_pton(AF_INET, s->host, bin) == 1 || inet_pton(AF_INET6, s->host, bin) == 1;
    X509_VERIFY_PARAM *param = SSL_get0_param(s->tls);
    if (numeric) {
        X509_VERIFY_PARAM_set1_ip_asc(param, s->host);
    } else {
        SSL_set_tlsext_host_name(s->tls, s->host);
        SSL_set1_host(s->tls, s->host);
    }
    SSL_set_connect_state(s->tls);
    return 0;
}

/* Moves the handshake on, then hands out what can be read. Returns 0, or -1 to close. */
static int tls_pump(struct stream *s)
{
    if (!s->handshaken) {
        int r = SSL_do_handshake(s->tls);
        if (r != 1) {
            int e = SSL_get_error(s->tls, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                tls_why(s, "handshake");
                return -1;
            }
            return tls_flush(s);
        }
        s->handshaken = 1;
        struct out *o = s->early; /* what was sent before it was done */
        s->early = s->early_tail = NULL;
        while (o) {
            struct out *next = o->next;
            s->queued -= o->len;
            if (SSL_write(s->tls, o->data + LWS_PRE, (int)o->len) <= 0) {
                free(o);
                for (o = next; o; o = next) {
                    next = o->next;
                    free(o);
                }
                tls_why(s, "write");
                return -1;
            }
            free(o);
            o = next;
        }
        if (tls_flush(s))
            return -1;
        if (s->h->on_open && !s->closing)
            s->h->on_open(s->ctx, s);
    }
    char plain[16 * 1024];
    int n;
    while ((n = SSL_read(s->tls, plain, sizeof plain)) > 0) {
        if (!s->closing && s->h->on_data)
            s->h->on_data(s->ctx, s, plain, (size_t)n);
    }
    int e = SSL_get_error(s->tls, n);
    if (e == SSL_ERROR_ZERO_RETURN) {
        snprintf(s->why, sizeof s->why, "the server closed the connection");
        return -1;
    }
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        tls_why(s, "read");
        return -1;
    }
    return tls_flush(s);
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
        if (s->want_tls) { /* TLS: the handshake first, on_open after it */
            if (tls_start(s) || tls_pump(s)) {
                if (!s->why[0])
                    snprintf(s->why, sizeof s->why, "TLS cannot start (out of memory)");
                return -1;
            }
        } else if (!s->closing && s->h->on_open) {
            s->h->on_open(s->ctx, s);
        }
        if (s->head || s->closing)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        if (s->tls) {
            if (BIO_write(s->rbio, in, (int)len) != (int)len || tls_pump(s))
                return -1;
            if (s->head)
                lws_callback_on_writable(wsi);
        } else if (!s->closing && s->h->on_data) {
            s->h->on_data(s->ctx, s, in, len);
        }
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
    snprintf(s->host, sizeof s->host, "%s", opt->host);
    s->want_tls = opt->tls;

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = loop_lws(l);
    ci.address = opt->address ? opt->address : opt->host;
    ci.port = opt->port;
    ci.host = opt->host;
    ci.method = "RAW";
    ci.ssl_connection = 0; /* TLS is ours: see the top of the file */
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

/* Appends bytes to a queue of struct out. */
static int append(struct out **head, struct out **tail, const void *data, size_t len)
{
    struct out *o = malloc(sizeof *o + LWS_PRE + len);
    if (!o)
        return ERR_NOMEM;
    o->next = NULL;
    o->len = len;
    memcpy(o->data + LWS_PRE, data, len);
    if (*tail)
        (*tail)->next = o;
    else
        *head = o;
    *tail = o;
    return 0;
}

/* Queues bytes for the socket as they are (ciphertext, or plain TCP). */
static int queue_raw(struct stream *s, const void *data, size_t len)
{
    int rc = append(&s->head, &s->tail, data, len);
    if (rc)
        return rc;
    s->queued += len;
    if (s->open && s->wsi)
        lws_callback_on_writable(s->wsi);
    return 0;
}

int stream_send(struct stream *s, const char *data, size_t len)
{
    if (s->closing || !s->wsi)
        return ERR_IO;
    if (s->queued + len > s->max_queue)
        return ERR_TOOBIG;
    if (!s->want_tls)
        return queue_raw(s, data, len);
    if (!s->handshaken) { /* written once the handshake is done */
        int rc = append(&s->early, &s->early_tail, data, len);
        if (!rc)
            s->queued += len;
        return rc;
    }
    if (SSL_write(s->tls, data, (int)len) <= 0) {
        ERR_clear_error();
        return ERR_IO;
    }
    return tls_flush(s) ? ERR_NOMEM : 0;
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
    return s->open && !s->closing && (!s->want_tls || s->handshaken);
}
