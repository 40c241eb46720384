/* norm.h - turning a chat message into the words of a question.
 *
 * norm_clean() takes out of a question what is not words: @handles (@planbot, @someone.else),
 * channels and tags (#general; "#5" stays), bare URLs, emoji characters and bytes that are not
 * UTF-8; and reads "US" and "U.S." as the country. A chat platform's markup (Slack's <@U1> and
 * &amp;, emoji shortcodes) never reaches it: each adapter's codec decodes its own into plain text.
 * Case, punctuation and diacritics are left to the FTS5 tokenizer, which folds them the same way
 * for questions and for the knowledge base.
 *
 * norm_class() sorts a folded word (lowercase, no diacritics) into what it means for matching. */
#ifndef PLANBOT_NORM_H
#define PLANBOT_NORM_H

#include <stddef.h>

#include "buf.h"

/* Writes the cleaned text of in[0..len) to out. Bytes that are not valid UTF-8 become spaces.
 * Returns 0, or ERR_TOOBIG when out's cap is reached. */
int norm_clean(const char *in, size_t len, struct buf *out);

enum norm_class {
    NORM_CONTENT, /* a word that says what the question is about */
    NORM_STOP,    /* a function word or chat filler: ignored */
    NORM_WEAK,    /* a common word with little topic (big, soon, happen): counts a little */
    NORM_SAY      /* a word asking what someone said (say, think, reaction): prefers quotes */
};

enum norm_class norm_class(const char *word);

#endif
