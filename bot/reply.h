/* reply.h - how an answer reads: the entry's own words, who said them, the source, related
 * entries; or, when planbot declines, that it does not know and the closest topics.
 * Written for a platform's markup (platform/markup.h), or as one line for the terminal. */
#ifndef PLANBOT_REPLY_H
#define PLANBOT_REPLY_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "kb.h"
#include "markup.h"
#include "match.h"

/* Appends the reply for a match result to out, as several lines of text written for the
 * platform's markup m (escaped, the quote markers kept). Returns 0 or an error (ERR_TOOBIG when
 * out's cap is reached, a database error when an entry vanished meanwhile: then it is
 * skipped). */
int reply_answer(struct kb *kb, const struct match_result *res, const struct markup *m,
                 struct buf *out);

/* Appends the reply as one line per answer, for `planbot ask` reading questions from stdin. */
int reply_answer_line(struct kb *kb, const struct match_result *res, struct buf *out);

/* The JSON form: {"question", "answers": [{"id", "kind", "title", "text", "speaker", "role",
 * "source": {"id", "title", "publisher", "authors", "date", "url"}, "score"}], "suggestions":
 * [{"id", "title"}], "asks": "topic", "when" or "how many", and when declining because the entry
 * on the topic does not state that, "instead": an answer object}. Caller frees. NULL when out of
 * memory. */
cJSON *reply_answer_json(struct kb *kb, const char *question, const struct match_result *res);

/* Appends a citation of a source record: publisher, “title”, authors, date, url. */
int reply_citation(const cJSON *source, struct buf *out);

/* Formats "2025-11-20" as "20 November 2025" into out; other text is copied. */
void reply_date(const char *iso, char *out, size_t len);

#endif
