/* verbatim.h - finding a passage in a source text the way a person would type it.
 *
 * Moderators type straight quotes and single spaces where the article has curly quotes, dashes
 * and line breaks. verbatim_find() matches modulo those differences and returns the span of the
 * source itself, so the knowledge base always stores the source's own words. */
#ifndef PLANBOT_VERBATIM_H
#define PLANBOT_VERBATIM_H

#include <stddef.h>

/* Looks for needle in hay, treating runs of white space as one space, curly and straight quotes
 * as equal and en/em dashes as hyphens, and ignoring white space at the ends of needle.
 * Returns 1 and the byte span of the first match in hay (*off, *len), or 0 when there is none
 * (an empty needle never matches). */
int verbatim_find(const char *hay, size_t hay_len, const char *needle, size_t needle_len,
                  size_t *off, size_t *len);

#endif
