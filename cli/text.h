/*
 * text.h: pure text helpers of rtowatch, no I/O: UTF-8 checks, display
 * width for aligning CJK text, and quoting for CSV, HTML and Markdown.
 * Every function returns a new string (free it) or a number.
 */
#ifndef RTOWATCH_TEXT_H
#define RTOWATCH_TEXT_H

#include <stddef.h>
#include <stdint.h>

size_t	 text_utf8_seq(const unsigned char *, uint32_t *);
char	*text_mend(const char *, int, int);
size_t	 text_width(const char *, int);
char	*text_truncate(const char *, size_t, int);
char	*text_csv(const char *);
char	*text_html(const char *);
char	*text_md(const char *);

#endif
