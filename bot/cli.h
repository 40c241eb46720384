/* cli.h - the command line: global options, then run, ask, kb ... or help.
 * Exit status: 0 on success, 1 on a runtime error, 2 on a usage error. */
#ifndef PLANBOT_CLI_H
#define PLANBOT_CLI_H

/* Runs planbot with its arguments; returns the process exit status. */
int cli_main(int argc, char **argv);

#endif
