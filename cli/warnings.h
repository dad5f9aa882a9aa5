/*
 * warnings.h: rtowatch warnings, the early warnings read from the
 * database (cli/warnings.c).
 */
#ifndef RTOWATCH_WARNINGS_H
#define RTOWATCH_WARNINGS_H

int	warnings_main(const char *, const char *, int, char **);

#endif
