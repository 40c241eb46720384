/* main.c - planbot's entry point: process-wide setup, then the command line. */
#include <signal.h>

#include "cli.h"

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed pipe or socket is an error return, not a death */
    return cli_main(argc, argv);
}
