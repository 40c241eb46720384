/* reconnect.c - when an adapter tries to connect again (see reconnect.h). */
#include "reconnect.h"

#include <stdlib.h>

int64_t reconnect_backoff_ms(unsigned attempt, int64_t cap_ms)
{
    int64_t base;
    if (attempt == 0)
        base = 0;
    else if (attempt > 20)
        base = cap_ms;
    else
        base = (int64_t)1000 << (attempt - 1);
    if (base > cap_ms)
        base = cap_ms;
    /* random() is enough to spread reconnects; nothing here needs to be unpredictable */
    int64_t spread = attempt == 0 ? 250 : base * 3 / 10;
    return base + (spread > 0 ? random() % (spread + 1) : 0);
}

void reconnect_init(struct reconnect *r, int64_t cap_ms, int64_t stable_ms)
{
    *r = (struct reconnect){ 0, 0, 0, cap_ms, stable_ms };
}

void reconnect_failed(struct reconnect *r, int64_t wait_ms)
{
    r->attempt++;
    if (wait_ms > r->wait_ms)
        r->wait_ms = wait_ms;
}

void reconnect_succeeded(struct reconnect *r)
{
    r->attempt = 0;
    r->wait_ms = 0;
}

void reconnect_answered(struct reconnect *r)
{
    r->wait_ms = 0;
}

void reconnect_closed(struct reconnect *r, int64_t served_ms)
{
    if (served_ms >= r->stable_ms) {
        r->attempt = 0;
        r->floor_ms = 0;
    } else {
        r->attempt++;
    }
}

void reconnect_floor(struct reconnect *r, int64_t floor_ms)
{
    r->floor_ms = floor_ms;
}

int64_t reconnect_delay(const struct reconnect *r, int64_t asked_ms)
{
    int64_t delay = asked_ms >= 0 ? asked_ms : reconnect_backoff_ms(r->attempt, r->cap_ms);
    if (delay < r->wait_ms)
        delay = r->wait_ms;
    if (delay < r->floor_ms)
        delay = r->floor_ms;
    return delay;
}
