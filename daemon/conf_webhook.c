/*
 * conf_webhook.c: webhook statements, the HTTP endpoints beside mail.
 *
 *	webhook "NAME" url "URL" [format generic|slack|teams|matrix]
 *	    [secret-file "PATH"] [ca-file "PATH"]
 *
 * A policy's "tell" line names one with "webhook NAME" among its
 * recipients.  The secret signs each request (webhook.c); like the SMTP
 * account it must be the daemon's alone, and it is never printed.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_parse.h"
#include "util.h"

#define CONF_WEBHOOK_SECRET_MAX	1024

static const char *const conf_webhook_formats[] = {
	[CONF_WEBHOOK_GENERIC] = "generic",
	[CONF_WEBHOOK_SLACK] = "slack",
	[CONF_WEBHOOK_TEAMS] = "teams",
	[CONF_WEBHOOK_MATRIX] = "matrix",
};

const char *
conf_webhook_format_name(enum conf_webhook_format f)
{
	return conf_webhook_formats[f];
}

const struct webhook_conf *
conf_find_webhook(const struct conf *conf, const char *name)
{
	const struct webhook_conf	*w;

	TAILQ_FOREACH(w, &conf->webhooks, entry)
		if (strcmp(w->name, name) == 0)
			return w;
	return NULL;
}

/* "http://HOST[:PORT][/PATH]" or "https://...", printable, no spaces. */
static int
conf_valid_http_url(const char *url)
{
	const char	*h, *c;

	if (strncmp(url, "https://", 8) == 0)
		h = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		h = url + 7;
	else
		return 0;
	if (strcspn(h, "/?#") == 0 || strchr(h, '@') != NULL)
		return 0;
	for (c = url; *c != '\0'; c++)
		if (!isgraph((unsigned char)*c))
			return 0;
	return 1;
}

/* The secret: the first line of a file only the daemon's user may read. */
static void
conf_webhook_secret(struct conf_parser *p, struct webhook_conf *w)
{
	char	 buf[CONF_WEBHOOK_SECRET_MAX + 2], *what;
	ssize_t	 n;

	xasprintf(&what, "webhook \"%s\": secret-file", w->name);
	n = conf_read_secret(p, what, w->secret_file, buf, sizeof(buf));
	free(what);
	if (n == 0 || n > CONF_WEBHOOK_SECRET_MAX)
		conf_error(p, "webhook \"%s\": secret-file \"%s\": expected "
		    "the secret on its first line, 1 to %d bytes", w->name,
		    w->secret_file, CONF_WEBHOOK_SECRET_MAX);
	else if (n > 0) {
		w->secret = xmalloc((size_t)n);
		memcpy(w->secret, buf, (size_t)n);
		w->secret_len = (size_t)n;
	}
	explicit_bzero(buf, sizeof(buf));
}

static void
conf_webhook_free(struct webhook_conf *w)
{
	free(w->name);
	free(w->url);
	free(w->secret_file);
	free(w->ca_file);
	if (w->secret != NULL)
		explicit_bzero(w->secret, w->secret_len);
	free(w->secret);
	free(w);
}

/* The options after the name, in any order, each once. */
static int
conf_webhook_option(struct conf_parser *p, struct webhook_conf *w,
    int *seen_format)
{
	char	*value;
	size_t	 i;

	if (strcmp(p->text, "url") == 0) {
		if (conf_next_string(p, "webhook URL", &value) == -1)
			return -1;
		if (w->url != NULL)
			conf_error(p, "webhook \"%s\": url given twice",
			    w->name);
		else if (!conf_valid_http_url(value))
			conf_error(p, "webhook \"%s\": url \"%s\": expected "
			    "https://HOST[:PORT]/PATH or http://...", w->name,
			    value);
		else
			(void)conf_need_lib(p, LAZYLIB_CURL, "a webhook");
		free(w->url);
		w->url = value;
	} else if (strcmp(p->text, "format") == 0) {
		if (conf_next_word(p, "webhook format") == -1)
			return -1;
		for (i = 0; i < sizeof(conf_webhook_formats) /
		    sizeof(conf_webhook_formats[0]); i++)
			if (strcmp(p->text, conf_webhook_formats[i]) == 0)
				break;
		if (i == sizeof(conf_webhook_formats) /
		    sizeof(conf_webhook_formats[0]))
			conf_error(p, "webhook \"%s\": unknown format \"%s\": "
			    "generic, slack, teams or matrix", w->name,
			    p->text);
		else if (*seen_format)
			conf_error(p, "webhook \"%s\": format given twice",
			    w->name);
		else
			w->format = (enum conf_webhook_format)i;
		*seen_format = 1;
	} else if (strcmp(p->text, "secret-file") == 0) {
		if (conf_next_string(p, "secret file", &value) == -1)
			return -1;
		if (w->secret_file != NULL) {
			conf_error(p, "webhook \"%s\": secret-file given "
			    "twice", w->name);
			free(value);
			return 0;
		}
		w->secret_file = conf_path(p, value);
		free(value);
		conf_webhook_secret(p, w);
	} else if (strcmp(p->text, "ca-file") == 0) {
		if (conf_next_string(p, "CA file", &value) == -1)
			return -1;
		if (w->ca_file != NULL)
			conf_error(p, "webhook \"%s\": ca-file given twice",
			    w->name);
		free(w->ca_file);
		w->ca_file = conf_path(p, value);
		free(value);
		if (access(w->ca_file, R_OK) == -1)
			conf_error(p, "webhook \"%s\": ca-file \"%s\": %s",
			    w->name, w->ca_file, strerror(errno));
	} else {
		conf_error(p, "webhook \"%s\": unknown option \"%s\": url, "
		    "format, secret-file or ca-file", w->name, p->text);
		return -1;
	}
	return 0;
}

/* webhook "NAME" url "URL" [format F] [secret-file "PATH"] [ca-file "PATH"] */
int
conf_parse_webhook(struct conf_parser *p, void *arg)
{
	struct webhook_conf	*w;
	int			 seen_format = 0;

	(void)arg;
	w = xcalloc(1, sizeof(*w));
	w->file = p->file;
	w->line = p->tokline;
	if (conf_next_string(p, "webhook name", &w->name) == -1) {
		conf_webhook_free(w);
		return -1;
	}
	for (;;) {
		conf_next(p);
		if (conf_at_end(p)) {
			conf_pushback(p);
			break;
		}
		if (p->tok != TOK_WORD) {
			conf_error(p, "webhook \"%s\": unexpected \"%s\"",
			    w->name, conf_tok_desc(p));
			conf_webhook_free(w);
			return -1;
		}
		if (conf_webhook_option(p, w, &seen_format) == -1) {
			conf_webhook_free(w);
			return -1;
		}
	}
	if (w->url == NULL)
		conf_error(p, "webhook \"%s\": missing url \"...\"", w->name);
	TAILQ_INSERT_TAIL(&p->conf->webhooks, w, entry);
	return conf_end_statement(p);
}

/*
 * Names given twice; a generic webhook without a secret (its receiver
 * could not tell rtowatch from anyone else); every webhook a "tell"
 * line names must exist.
 */
void
conf_check_webhooks(struct conf *conf, struct conf_errors *errs)
{
	const struct policy		*pol = &conf->policy;
	const struct webhook_conf	*w, *w2;
	int				 r;

	TAILQ_FOREACH(w, &conf->webhooks, entry) {
		for (w2 = TAILQ_FIRST(&conf->webhooks); w2 != w;
		    w2 = TAILQ_NEXT(w2, entry))
			if (strcmp(w->name, w2->name) == 0) {
				conf_error_at(errs, w->file, w->line,
				    "duplicate webhook \"%s\" (first defined "
				    "at %s:%d)", w->name, w2->file, w2->line);
				break;
			}
		if (w->format == CONF_WEBHOOK_GENERIC &&
		    w->secret_file == NULL)
			conf_error_at(errs, w->file, w->line, "webhook \"%s\": "
			    "format generic needs secret-file \"PATH\" to "
			    "sign its requests", w->name);
	}
	for (r = 0; r < pol->nrecipients; r++)
		if ((pol->webhooks & (1U << r)) &&
		    conf_find_webhook(conf, pol->recipients[r]) == NULL)
			conf_error_at(errs, conf->tell_file[r],
			    conf->tell_line[r], "tell webhook \"%s\": no "
			    "webhook \"%s\" in the rules", pol->recipients[r],
			    pol->recipients[r]);
}

void
conf_webhooks_free(struct conf *conf)
{
	struct webhook_conf	*w;

	while ((w = TAILQ_FIRST(&conf->webhooks)) != NULL) {
		TAILQ_REMOVE(&conf->webhooks, w, entry);
		conf_webhook_free(w);
	}
}
