/* fuzz.h - what the libFuzzer targets share: CHECK(), which turns a broken promise into a crash
 * libFuzzer reports and keeps, and fuzz_consistent(), the knowledge base's own check. */
#ifndef PLANBOT_FUZZ_H
#define PLANBOT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "kb.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Aborts, saying what and after what, unless kb_check finds kb consistent. */
static inline void fuzz_consistent(struct kb *kb, const char *after)
{
    struct kb_check_report rep;
    cJSON *problems = NULL;
    int rc = kb_check(kb, 10, &rep, &problems);
    if (rc || rep.problems) {
        char *p = problems ? cJSON_Print(problems) : NULL;
        fprintf(stderr, "kb_check after %s: %s, %lld problems: %s\n", after, err_str(rc),
                (long long)rep.problems, p ? p : "");
        abort();
    }
    cJSON_Delete(problems);
}

#endif
