/* reply.h - how an answer reads: the entry's own words, who said them, the source, related
 * entries; or, when planbot declines, that it does not know and the closest topics.
 * One style per kind of output; platform adapters pick theirs. */
#ifndef PLANBOT_REPLY_H
#define PLANBOT_REPLY_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "kb.h"
#include "match.h"

enum reply_style {
    REPLY_TEXT,  /* several lines of plain text, for the console and `planbot ask` */
    REPLY_LINE,  /* one line per answer, for `planbot ask` reading questions from stdin */
    REPLY_MRKDWN /* Slack's mrkdwn: the text reply with & < > escaped, quotes kept */
};

/* Appends the reply for a match result to out. Returns 0 or an error (ERR_TOOBIG when out's cap
 * is reached, a database error when an entry vanished meanwhile: then it is skipped). */
int reply_answer(struct kb *kb, const struct match_result *res, enum reply_style style,
                 struct buf *out);

/* Appends text (a command's output) written for style: escaped for REPLY_MRKDWN, as it is
 * otherwise. Returns 0 or ERR_TOOBIG. */
int reply_escape(enum reply_style style, const char *text, size_t len, struct buf *out);

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
