/*
 * conf.c: the rules language.
 *
 * A hand-written lexer and recursive-descent parser, by block: the lexer
 * and the values in conf_lex.c, each block in a file of its own (see
 * conf_parse.h).  An error is recorded with its file and line, the rest
 * of the statement is skipped, and parsing goes on, so one run lists
 * every mistake in the file.  Checks that need the whole file
 * (duplicates, required settings) run in a second pass, from here.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_parse.h"
#include "probe.h"
#include "util.h"

/* The statements at the top level of a file, each with its parser. */
static const struct conf_keyword conf_statements[] = {
	{ "set",		conf_parse_set },
	{ "include",		conf_parse_include },
	{ "system",		conf_parse_system },
	{ "policy",		conf_parse_policy },
	{ "maintenance",	conf_parse_maintenance },
	{ "role",		conf_parse_role },
	{ "category",		conf_parse_category },
	{ "contact",		conf_parse_contact },
	{ "anomaly",		conf_parse_anomaly },
	{ "webhook",		conf_parse_webhook },
	{ "down",		conf_parse_down_global },
	{ NULL,			NULL }
};

void
conf_parse_statements(struct conf_parser *p)
{
	const struct conf_keyword	*kw;

	for (;;) {
		conf_next(p);
		switch (p->tok) {
		case TOK_EOF:
			return;
		case TOK_EOL:
			continue;
		case TOK_WORD:
			if ((kw = conf_keyword_find(conf_statements,
			    p->text)) == NULL) {
				conf_error(p, "unknown keyword \"%s\"",
				    p->text);
				conf_skip_statement(p);
			} else if (kw->parse(p, p->conf) == -1)
				conf_skip_statement(p);
			break;
		case TOK_RBRACE:
			conf_error(p, "unexpected '}'");
			break;
		default:
			conf_error(p, "unexpected \"%s\"", conf_tok_desc(p));
			conf_skip_statement(p);
			break;
		}
	}
}

/* A node is named after its host unless the rules say otherwise. */
static char *
conf_default_node(void)
{
	char	 host[256];

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		return xstrdup("rtowatchd");
	host[sizeof(host) - 1] = '\0';
	return xstrdup(host);
}

static struct conf *
conf_new(const char *path)
{
	struct conf	*conf;

	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(path);
	TAILQ_INIT(&conf->systems);
	TAILQ_INIT(&conf->maints);
	TAILQ_INIT(&conf->roles);
	TAILQ_INIT(&conf->categories);
	TAILQ_INIT(&conf->contacts);
	TAILQ_INIT(&conf->webhooks);
	TAILQ_INIT(&conf->anomalies);
	conf->dns_ttl_min_ms = CONF_DEFAULT_DNS_TTL_MIN_MS;
	conf->dns_ttl_max_ms = CONF_DEFAULT_DNS_TTL_MAX_MS;
	conf->https_concurrency = CONF_DEFAULT_HTTPS_CONCURRENCY;
	conf->store_alert_after_ms = CONF_DEFAULT_STORE_ALERT_MS;
	conf->history_bucket_ms = CONF_DEFAULT_HISTORY_BUCKET_MS;
	conf->history_minutes_ms = CONF_DEFAULT_HISTORY_MINUTES_MS;
	conf->history_hours_ms = CONF_DEFAULT_HISTORY_HOURS_MS;
	conf->observations_keep_ms = CONF_DEFAULT_OBSERVATIONS_KEEP_MS;
	conf->lead = 1;
	return conf;
}

static struct conf *
conf_finish(struct conf *conf, struct conf_errors *errs)
{
	/*
	 * Semantic errors are reported even after syntax errors, but not
	 * when the file itself could not be read.
	 */
	if (conf->nfiles > 0) {
		conf_check_systems(conf, errs);
		conf_check_maints(conf, errs);
		conf_check_policy(conf, errs);
		conf_check_lists(conf, errs);
		conf_check_mail(conf, errs);
		conf_check_webhooks(conf, errs);
		conf_check_anomalies(conf, errs);
		conf_check_web(conf, errs);
	}
	if (conf->database == NULL)
		conf->database = xstrdup(CONF_DEFAULT_DATABASE);
	if (conf->timezone == NULL)
		conf->timezone = xstrdup(CONF_DEFAULT_TIMEZONE);
	if (conf->node_name == NULL)
		conf->node_name = conf_default_node();
	if (conf->socket == NULL)
		conf->socket = xstrdup(CONF_DEFAULT_SOCKET);
	if (errs->count > 0) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
	struct conf	*conf;

	conf = conf_new(path);
	conf_parse_file(conf, errs, path, 0, NULL);
	return conf_finish(conf, errs);
}

/* Parse rules held in memory (tests, fuzzing); NAME stands for the file. */
struct conf *
conf_parse_buffer(const char *name, const char *buf, size_t len,
    struct conf_errors *errs)
{
	struct conf_parser	 p;
	struct conf		*conf;

	conf = conf_new(name);
	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.errs = errs;
	p.file = conf_intern_file(conf, name);
	p.dir = NULL;
	p.buf = buf;
	p.len = len;
	conf_parse_text(&p);
	return conf_finish(conf, errs);
}

struct contact_conf *
conf_find_contact(const struct conf *conf, const char *name)
{
	struct contact_conf	*c;

	TAILQ_FOREACH(c, &conf->contacts, entry)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct system_conf *
conf_find_system(const struct conf *conf, const char *name)
{
	struct system_conf	*sys;

	TAILQ_FOREACH(sys, &conf->systems, entry)
		if (strcmp(sys->name, name) == 0)
			return sys;
	return NULL;
}

/* A block of conf_strdup's texts. */
struct conf_block {
	struct conf_block	*next;
	char			 text[];
};

/*
 * 16 kB less malloc's header: 10,000 systems' names and descriptions take
 * about 25 blocks.
 */
#define CONF_BLOCK_ROOM	(16384 - 2 * sizeof(void *))

/*
 * A copy of TEXT that lives until conf_free(CONF), in a block of them:
 * malloc'd one by one, 10,000 names of 6 characters and descriptions of
 * 25 took 32 and 48 bytes each (issue 20).
 */
char *
conf_strdup(struct conf *conf, const char *text)
{
	struct conf_strings	*t = &conf->strings;
	struct conf_block	*b;
	size_t			 len = strlen(text) + 1;

	if (len > CONF_BLOCK_ROOM / 8) {
		/* A long one has a block of its own, behind the current. */
		b = xmalloc(sizeof(*b) + len);
		if (t->blocks != NULL) {
			b->next = t->blocks->next;
			t->blocks->next = b;
		} else {
			b->next = NULL;
			t->blocks = b;
			t->used = t->room = 0;
		}
		return memcpy(b->text, text, len);
	}
	if (t->room - t->used < len) {
		b = xmalloc(sizeof(*b) + CONF_BLOCK_ROOM);
		b->next = t->blocks;
		t->blocks = b;
		t->used = 0;
		t->room = CONF_BLOCK_ROOM;
	}
	t->used += len;
	return memcpy(t->blocks->text + t->used - len, text, len);
}

/*
 * TEXT kept once in CONF, freed with it: 10,000 systems name a few
 * owners and parents, and their copies were 32-64 bytes each, for every
 * system (issue 20).  The set is at most half full.
 */
char *
conf_intern(struct conf *conf, const char *text)
{
	struct conf_strings	*t = &conf->strings;
	char			**old = t->slots;
	size_t			 i, j, cap = t->cap, mask;

	if ((t->n + 1) * 2 > t->cap) {
		t->cap = t->cap == 0 ? 64 : t->cap * 2;
		t->slots = xcalloc(t->cap, sizeof(char *));
		for (j = 0; j < cap; j++) {
			if (old[j] == NULL)
				continue;
			for (i = str_hash(old[j]) & (t->cap - 1);
			    t->slots[i] != NULL; i = (i + 1) & (t->cap - 1))
				;
			t->slots[i] = old[j];
		}
		free(old);
	}
	mask = t->cap - 1;
	for (i = str_hash(text) & mask; t->slots[i] != NULL;
	    i = (i + 1) & mask)
		if (strcmp(t->slots[i], text) == 0)
			return t->slots[i];
	t->n++;
	return t->slots[i] = conf_strdup(conf, text);
}

/* conf_intern and conf_strdup for a check's parser (probes/). */
const char *
conf_parser_intern(struct conf_parser *p, const char *text)
{
	return conf_intern(p->conf, text);
}

const char *
conf_parser_strdup(struct conf_parser *p, const char *text)
{
	return conf_strdup(p->conf, text);
}

/*
 * Does this node probe SYS: assigned to it by "vantage points", or to
 * every node (no such line)?
 */
int
conf_system_probed_here(const struct conf *conf,
    const struct system_conf *sys)
{
	size_t	 i;

	if (sys->nvantage == 0)
		return 1;
	for (i = 0; i < sys->nvantage; i++)
		if (conf->node_name != NULL &&
		    strcmp(sys->vantage[i], conf->node_name) == 0)
			return 1;
	return 0;
}

const struct category_conf *
conf_find_category(const struct conf *conf, const char *code)
{
	const struct category_conf	*c;

	TAILQ_FOREACH(c, &conf->categories, entry)
		if (strcmp(c->code, code) == 0)
			return c;
	return NULL;
}

void
conf_free(struct conf *conf)
{
	struct anomaly_conf	*an;
	struct category_conf	*cat;
	struct contact_conf	*c;
	struct role_conf	*r;
	struct maint_conf	*m;
	struct system_conf	*sys;
	struct check_conf	*cc;
	struct conf_block	*b;
	size_t			 n;
	int			 i;

	if (conf == NULL)
		return;
	while ((sys = TAILQ_FIRST(&conf->systems)) != NULL) {
		TAILQ_REMOVE(&conf->systems, sys, entry);
		while ((cc = TAILQ_FIRST(&sys->checks)) != NULL) {
			TAILQ_REMOVE(&sys->checks, cc, entry);
			if (cc->opts != NULL)
				cc->ops->free_opts(cc);
			free(cc->target);
			free(cc);
		}
		free(sys->depends);	/* its names: conf->strings' */
		for (n = 0; n < sys->nvantage; n++)
			free(sys->vantage[n]);
		free(sys->vantage);
		free(sys->depends_line);
		free(sys);
	}
	while ((b = conf->strings.blocks) != NULL) {
		conf->strings.blocks = b->next;
		free(b);
	}
	free(conf->strings.slots);
	while ((m = TAILQ_FIRST(&conf->maints)) != NULL) {
		TAILQ_REMOVE(&conf->maints, m, entry);
		free(m->system);
		free(m);
	}
	while ((r = TAILQ_FIRST(&conf->roles)) != NULL) {
		TAILQ_REMOVE(&conf->roles, r, entry);
		free(r->group);
		free(r);
	}
	while ((cat = TAILQ_FIRST(&conf->categories)) != NULL) {
		TAILQ_REMOVE(&conf->categories, cat, entry);
		free(cat->code);
		free(cat->name_zh);
		free(cat->name_en);
		free(cat);
	}
	while ((c = TAILQ_FIRST(&conf->contacts)) != NULL) {
		TAILQ_REMOVE(&conf->contacts, c, entry);
		free(c->name);
		free(c->email);
		free(c->phone);
		free(c->person);
		free(c);
	}
	conf_webhooks_free(conf);
	free(conf->mail.smtp);
	free(conf->mail.from);
	free(conf->mail.credentials);
	free(conf->mail.user);
	if (conf->mail.password != NULL)
		explicit_bzero(conf->mail.password,
		    strlen(conf->mail.password));
	free(conf->mail.password);
	free(conf->mail.ca_file);
	while ((an = TAILQ_FIRST(&conf->anomalies)) != NULL) {
		TAILQ_REMOVE(&conf->anomalies, an, entry);
		free(an->name);
		free(an->interface);
		free(an->filter);
		free(an);
	}
	for (i = 0; i < conf->nresolvers; i++)
		free(conf->resolvers[i]);
	free(conf->timezone);
	free(conf->socket);
	conf_free_web(&conf->web);
	for (i = 0; i < conf->policy.nrecipients; i++)
		free(conf->policy.recipients[i]);
	for (n = 0; n < conf->nfiles; n++)
		free(conf->files[n]);
	free(conf->files);
	free(conf->database);
	free(conf->node_name);
	free(conf->user);
	free(conf->group);
	free(conf->path);
	free(conf);
}
