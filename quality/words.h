#ifndef LM_WORDS_H
#define LM_WORDS_H
/*
 * words: is a word everyday English? Used by the lints to tell a rare
 * trigger from a common word, and identity words from generic ones.
 * Words are looked up as given: pass them in lowercase ASCII.
 */
#include <stdbool.h>

/* Is word an everyday English word or a generic caption word? */
bool words_common(const char *word);

/* Is word a function word ("the", "with", "her")? */
bool words_stop(const char *word);

#endif
