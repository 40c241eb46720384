/* main.c - planbot's entry point: process-wide setup, then the command line, then teardown. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "cli.h"
#include "json_arena.h"

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed pipe or socket is an error return, not a death */
    /* reconnect jitter must differ between processes, or a fleet reconnects in step */
    unsigned seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
    srandom(seed);
    /* Each SQLite connection is used by one thread only (the daemon's loop; the HTTP worker never
     * touches SQLite), so connections need no mutex of their own; and SQLite's memory statistics,
     * which take a global mutex on every allocation, are never read. Both before SQLite starts. */
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    json_arena_install(); /* cJSON's hooks, process-wide: before any thread starts */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("planbot: cannot initialise libcurl\n", stderr);
        return 1;
    }
    int status = cli_main(argc, argv);
    curl_global_cleanup();
    return status;
}
