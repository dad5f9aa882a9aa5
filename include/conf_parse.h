/*
 * conf_parse.h: what the files of the rules parser share, and nothing
 * else includes (the daemon's modules see conf.h alone).
 *
 *	conf.c		the entry points, the top-level statements, the
 *			second pass and conf_free
 *	conf_lex.c	errors, tokens, values (strings, numbers,
 *			durations), blocks, include and reading a file
 *	conf_system.c	system blocks, their checks, maintenance
 *	conf_policy.c	the policy block
 *	conf_mail.c	set, contact, role and category
 *	conf_anomaly.c	anomaly blocks
 *	conf_webhook.c	webhook statements
 *	conf_web.c	set web (the web page)
 *
 * Error recovery, one style throughout: a statement's parser reports
 * what is wrong with conf_error() and returns -1 when the statement is
 * broken, and whoever picked that parser from a keyword table skips the
 * rest of the statement (conf_skip_statement); it returns 0 when it read
 * the statement to its end, errors or not (a bad value reported, the
 * statement still well formed).  Parsing always goes on, so one run
 * lists every mistake in the file.
 */
#ifndef RTOWATCH_CONF_PARSE_H
#define RTOWATCH_CONF_PARSE_H

#include <sys/stat.h>
#include <sys/types.h>

#include <stdio.h>

#include "conf.h"

enum conf_tok {
	TOK_EOF,
	TOK_EOL,	/* newline or ';' */
	TOK_WORD,
	TOK_STRING,
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_ERROR
};

struct conf_parser {
	struct conf		*conf;
	struct conf_errors	*errs;
	const char		*file;	/* owned by conf->files */
	char			*dir;	/* for relative paths */
	const char		*buf;
	size_t			 len;
	size_t			 pos;
	int			 line;
	int			 depth;
	enum conf_tok		 tok;	/* the current token */
	char			*text;	/* its text, for WORD and STRING */
	int			 tokline;
	int			 peeked;
};

/*
 * A statement's parser, picked by its first word from a table of them as
 * OpenBSD's parse.y picks a token from its keywords; the word is current
 * (p->text) when it is called, ARG is the record of the block it is in
 * (the struct conf at the top level).  Returns 0 or -1, as above.
 */
struct conf_keyword {
	const char	*word;
	int		(*parse)(struct conf_parser *, void *);
};

/* conf_open_regular's errno for a file that is not a regular one. */
#define EFTYPE_CONF	EINVAL

/* conf_lex.c */
void	conf_error_at(struct conf_errors *, const char *, int,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
const char *conf_intern_file(struct conf *, const char *);
void	conf_next(struct conf_parser *);
void	conf_pushback(struct conf_parser *);
int	conf_at_end(const struct conf_parser *);
const char *conf_tok_desc(const struct conf_parser *);
void	conf_skip_statement(struct conf_parser *);
int	conf_end_statement(struct conf_parser *);
int	conf_next_word(struct conf_parser *, const char *);
int	conf_expect_word(struct conf_parser *, const char *);
int	conf_next_yesno(struct conf_parser *, const char *, int *);
char	*conf_path(const struct conf_parser *, const char *);
FILE	*conf_open_regular(const char *, struct stat *);
ssize_t	 conf_read_secret(struct conf_parser *, const char *, const char *,
	    char *, size_t);
const struct conf_keyword *conf_keyword_find(const struct conf_keyword *,
	    const char *);
int	conf_parse_include(struct conf_parser *, void *);
int	conf_parse_block(struct conf_parser *, const char *, int,
	    int (*)(struct conf_parser *, void *), void *);
void	conf_parse_text(struct conf_parser *);
void	conf_parse_file(struct conf *, struct conf_errors *, const char *,
	    int, struct conf_parser *);

/* conf.c */
void	conf_parse_statements(struct conf_parser *);

/* conf_system.c */
int	conf_parse_system(struct conf_parser *, void *);
int	conf_parse_down_global(struct conf_parser *, void *);
int	conf_parse_maintenance(struct conf_parser *, void *);
void	conf_check_systems(struct conf *, struct conf_errors *);
void	conf_check_maints(struct conf *, struct conf_errors *);

/* conf_policy.c */
int	conf_parse_policy(struct conf_parser *, void *);
void	conf_check_policy(struct conf *, struct conf_errors *);

/* conf_mail.c */
int	conf_parse_set(struct conf_parser *, void *);
int	conf_parse_role(struct conf_parser *, void *);
int	conf_parse_category(struct conf_parser *, void *);
int	conf_parse_contact(struct conf_parser *, void *);
void	conf_check_mail(struct conf *, struct conf_errors *);
void	conf_check_lists(struct conf *, struct conf_errors *);

/* conf_anomaly.c */
int	conf_parse_anomaly(struct conf_parser *, void *);
void	conf_check_anomalies(struct conf *, struct conf_errors *);

/* conf_webhook.c */
int	conf_parse_webhook(struct conf_parser *, void *);
void	conf_check_webhooks(struct conf *, struct conf_errors *);
void	conf_webhooks_free(struct conf *);
/* conf_web.c */
int	conf_set_web(struct conf_parser *, void *);
void	conf_check_web(struct conf *, struct conf_errors *);

#endif
