/* resolver.c - getaddrinfo() on a thread of its own (see resolver.h).
 *
 * The thread and the loop share two locked lists: lookups to make, oldest first, and answers to
 * hand over. One drain() is posted to the loop for however many answers wait; when it cannot be
 * posted (out of memory), the thread tries again every 100 ms. */
#include "resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"

struct lookup {
    struct lookup *next;
    resolver_done_fn done;
    void *ctx;
    int err;
    char addr[INET6_ADDRSTRLEN];
    char why[160];
    char host[]; /* NUL-terminated */
};

struct resolver {
    struct loop *loop; /* borrowed */
    pthread_t thread;
    pthread_mutex_t lock;               /* guards everything below */
    pthread_cond_t news;                /* a lookup to make, or quit */
    struct lookup *incoming, *finished; /* oldest first */
    int started, quit, posted;
};

static void push(struct lookup **list, struct lookup *k)
{
    k->next = NULL;
    while (*list)
        list = &(*list)->next;
    *list = k;
}

static void free_list(struct lookup *k)
{
    while (k) {
        struct lookup *next = k->next;
        free(k);
        k = next;
    }
}

/* On the loop's thread: hands the answers to their owners. */
static void drain(void *arg)
{
    struct resolver *r = arg;
    pthread_mutex_lock(&r->lock);
    struct lookup *k = r->finished;
    r->finished = NULL;
    r->posted = 0;
    pthread_mutex_unlock(&r->lock);
    while (k) {
        struct lookup *next = k->next;
        k->done(k->ctx, k->err, k->addr, k->why);
        free(k);
        k = next;
    }
}

static void look_up(struct lookup *k)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(k->host, NULL, &hints, &res);
    if (rc) {
        k->err = ERR_IO;
        snprintf(k->why, sizeof k->why, "cannot look up %.100s: %s", k->host, gai_strerror(rc));
        return;
    }
    const struct addrinfo *a = res;
    for (const struct addrinfo *i = res; i; i = i->ai_next)
        if (i->ai_family == AF_INET) { /* IPv4 first: it is the more often routable */
            a = i;
            break;
        }
    const void *bin = a->ai_family == AF_INET
                          ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                          : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
    inet_ntop(a->ai_family, bin, k->addr, sizeof k->addr);
    freeaddrinfo(res);
}

static void *worker(void *arg)
{
    struct resolver *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        if (r->finished && !r->posted) { /* answers a failed post left behind */
            r->posted = loop_post(r->loop, drain, r) == 0;
        }
        if (r->quit)
            break;
        struct lookup *k = r->incoming;
        if (!k) {
            if (r->finished && !r->posted) {
                struct timespec at;
                clock_gettime(CLOCK_REALTIME, &at);
                at.tv_nsec += 100 * 1000 * 1000;
                if (at.tv_nsec >= 1000 * 1000 * 1000) {
                    at.tv_sec++;
                    at.tv_nsec -= 1000 * 1000 * 1000;
                }
                pthread_cond_timedwait(&r->news, &r->lock, &at);
            } else {
                pthread_cond_wait(&r->news, &r->lock);
            }
            continue;
        }
        r->incoming = k->next;
        pthread_mutex_unlock(&r->lock);
        look_up(k);
        pthread_mutex_lock(&r->lock);
        push(&r->finished, k);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int resolver_new(struct resolver **out, struct loop *loop)
{
    struct resolver *r = calloc(1, sizeof *r);
    if (!r)
        return ERR_NOMEM;
    r->loop = loop;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->news, NULL);
    *out = r;
    return 0;
}

void resolver_free(struct resolver *r)
{
    if (!r)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->lock);
        r->quit = 1;
        pthread_cond_signal(&r->news);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    loop_unpost(r->loop, r);
    free_list(r->incoming);
    free_list(r->finished);
    pthread_cond_destroy(&r->news);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int resolver_lookup(struct resolver *r, const char *host, resolver_done_fn done, void *ctx)
{
    size_t n = strlen(host);
    struct lookup *k = calloc(1, sizeof *k + n + 1);
    if (!k)
        return ERR_NOMEM;
    memcpy(k->host, host, n + 1);
    k->done = done;
    k->ctx = ctx;
    pthread_mutex_lock(&r->lock);
    if (!r->started) {
        if (pthread_create(&r->thread, NULL, worker, r)) {
            pthread_mutex_unlock(&r->lock);
            free(k);
            return ERR_NOMEM;
        }
        r->started = 1;
    }
    push(&r->incoming, k);
    pthread_cond_signal(&r->news);
    pthread_mutex_unlock(&r->lock);
    return 0;
}
