/* bench_proc.c - what one run of a command costs: its wall time and its peak memory.
 *
 * run.sh measures planbot as a user runs it, as a process: startup as the median wall time of
 * several runs (CLOCK_MONOTONIC around fork and wait), peak memory as the child's maximum
 * resident set size from wait4(). A few lines of C instead of hyperfine and GNU time, so the
 * benchmark needs no package beyond the build's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_RUNS = 10000 };

static const char usage[] =
    "usage: bench_proc time RUNS -- COMMAND [ARG...]\n"
    "           median and least wall time of RUNS runs, after one unmeasured run\n"
    "       bench_proc rss INPUT -- COMMAND [ARG...]\n"
    "           peak resident memory of one run reading INPUT on its standard input\n"
    "The command's output goes to /dev/null; a run that fails fails bench_proc.\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs argv with stdin from input (NULL: /dev/null) and output to /dev/null, waits for it and
 * fills *ru. Returns 0 when it exited with status 0, -1 otherwise (with a message). */
static int run(char **argv, const char *input, struct rusage *ru)
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench_proc: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int in = open(input ? input : "/dev/null", O_RDONLY);
        int out = open("/dev/null", O_WRONLY);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (wait4(pid, &status, 0, ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "bench_proc: wait4: %s\n", strerror(errno));
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_proc: %s failed (%s %d)\n", argv[0],
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int time_runs(long runs, char **argv)
{
    double *ms = malloc((size_t)runs * sizeof *ms);
    struct rusage ru;
    if (!ms || run(argv, NULL, &ru)) { /* the unmeasured run fills the page cache */
        free(ms);
        return 1;
    }
    for (long i = 0; i < runs; i++) {
        double t0 = now_ms();
        if (run(argv, NULL, &ru)) {
            free(ms);
            return 1;
        }
        ms[i] = now_ms() - t0;
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    printf("runs %ld\nmedian_ms %.2f\nmin_ms %.2f\nmax_ms %.2f\n", runs, median, ms[0],
           ms[runs - 1]);
    free(ms);
    return 0;
}

static int peak_rss(const char *input, char **argv)
{
    struct rusage ru;
    if (run(argv, input, &ru))
        return 1;
    printf("maxrss_kb %ld\n", ru.ru_maxrss); /* Linux reports kilobytes */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "time") == 0) {
        char *end;
        errno = 0;
        long runs = strtol(argv[2], &end, 10);
        if (errno || end == argv[2] || *end || runs < 1 || runs > MAX_RUNS) {
            fprintf(stderr, "bench_proc: RUNS must be a number from 1 to %d\n", MAX_RUNS);
            return 2;
        }
        return time_runs(runs, argv + 4);
    }
    if (strcmp(argv[1], "rss") == 0)
        return peak_rss(argv[2], argv + 4);
    fputs(usage, stderr);
    return 2;
}
