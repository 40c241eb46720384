/* english.c - binary search over the compiled-in word list (see english.h). */
#include "english.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern const size_t english_count;
extern const char english_words[];
extern const uint32_t english_offsets[];

int english_is_word(const char *word)
{
    size_t lo = 0, hi = english_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(word, english_words + english_offsets[mid]);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}
