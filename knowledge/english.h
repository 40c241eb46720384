/* english.h - is this an English word? Debian's word list (wamerican), compiled in.
 *
 * The matcher corrects a question word only when it is neither in the knowledge base nor an
 * English word: "ukrane" becomes "Ukraine", but "lunch" stays "lunch" instead of becoming the
 * "launch" of a power plant, and "capital" does not become "Capitol". */
#ifndef PLANBOT_ENGLISH_H
#define PLANBOT_ENGLISH_H

/* 1 when word (lowercase ASCII letters) is in the word list, names included, else 0. */
int english_is_word(const char *word);

#endif
