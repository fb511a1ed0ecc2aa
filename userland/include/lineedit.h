#ifndef _LINEEDIT_H
#define _LINEEDIT_H
/* lineedit: a small line editor for a program reading from a terminal (the shell).
   le_readline switches the terminal to non-canonical mode (termios) for the time it reads
   one line, reads the keys from it, shows and edits the line itself on standard output,
   and restores the terminal's settings before returning.

   Keys: Left/Right (^B/^F) move, Home/End (^A/^E), Alt-b/Alt-f by word; Backspace, Delete,
   ^K (to the end), ^U (to the start), ^W (the word before) delete; Up/Down (^P/^N) walk the
   history; Tab completes the word before the cursor; ^L clears the screen; Enter ends the
   line; ^C discards it; ^D at an empty line is end of input, elsewhere it deletes the
   character under the cursor, or at the end of the line ends the line as Enter does but
   without the newline (so scripted input without a final newline is still read). */
#include <sys/types.h>

#define LE_EOF  (-1)    /* end of input (^D at an empty line); also -1 with errno set on error */
#define LE_INTR (-2)    /* ^C: the line was discarded */

/* Reads one line from terminal fd into buf (NUL-terminated, without the newline), showing
   prompt. Returns its length, LE_EOF or LE_INTR; -1 with errno ENOTTY when fd is not a
   terminal. */
int le_readline(int fd, const char *prompt, char *buf, size_t n);

/* History: le_history_add keeps the line (not an empty one, nor the same as the last). */
void le_history_add(const char *line);
int le_history_count(void);
const char *le_history_get(int i);   /* 0 is the oldest kept */

/* Completion: on Tab, the completer is called with the line and the word before the
   cursor, line[start, end); it offers whole words with le_add_completion. One candidate
   replaces the word (followed by a space unless it ends in '/'); several are reduced to
   their longest common prefix, and listed when that adds nothing. */
typedef void (*le_completer)(const char *line, int start, int end);
void le_set_completer(le_completer fn);
void le_add_completion(const char *word);
/* Offers the names in dir (NULL: the directory part of word, or ".") that start with
   word's last component, directories with a trailing '/'. */
void le_complete_files(const char *word, const char *dir);

#endif
