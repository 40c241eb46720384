/* main.c - planbot's entry point: process-wide setup, then the command line, then teardown. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed pipe or socket is an error return, not a death */
    /* reconnect jitter must differ between processes, or a fleet reconnects in step */
    unsigned seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
    srandom(seed);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("planbot: cannot initialise libcurl\n", stderr);
        return 1;
    }
    int status = cli_main(argc, argv);
    curl_global_cleanup();
    return status;
}
