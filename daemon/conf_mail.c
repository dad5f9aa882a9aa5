/*
 * conf_mail.c: set, contact, role and category: the daemon's settings,
 * how notifications are mailed and to whom, who may act through the
 * control socket, and the event categories.  The second pass checks
 * that every recipient the policy tells can be mailed.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <event2/util.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_parse.h"
#include "util.h"

/* A zone is a file of the tz database ("Asia/Taipei", "UTC"). */
static int
conf_valid_timezone(const char *tz)
{
	char		 path[512];
	struct stat	 st;

	if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL)
		return -1;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

/*
 * An address as SMTP takes it in MAIL FROM and RCPT TO: local@domain in
 * printable ASCII, without the characters that would end or break the
 * command.
 */
static int
conf_valid_email(const char *s)
{
	const char	*at = strchr(s, '@'), *c;

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (c = s; *c != '\0'; c++)
		if (!isgraph((unsigned char)*c) || strchr("<>()[],;:\\\"",
		    *c) != NULL)
			return 0;
	return 1;
}

/* "smtp://HOST[:PORT]" or "smtps://...", nothing after the authority. */
static int
conf_valid_smtp_url(const char *url)
{
	const char	*h;
	size_t		 n;

	if (strncmp(url, "smtp://", 7) == 0)
		h = url + 7;
	else if (strncmp(url, "smtps://", 8) == 0)
		h = url + 8;
	else
		return 0;
	n = strcspn(h, "/?#@");
	if (n == 0 || (h[n] != '\0' && strcmp(h + n, "/") != 0))
		return 0;
	for (; *h != '\0'; h++)
		if (!isgraph((unsigned char)*h))
			return 0;
	return 1;
}

/*
 * The SMTP account, from a file holding "user:password" on its first
 * line, the daemon's secret (conf_read_secret).
 */
static void
conf_read_credentials(struct conf_parser *p, const char *path)
{
	struct mail_conf	*m = &p->conf->mail;
	char			 buf[1024], *colon;

	if (conf_read_secret(p, "smtp-credentials", path, buf,
	    sizeof(buf)) == -1)
		return;
	if ((colon = strchr(buf, ':')) == NULL || colon == buf) {
		conf_error(p, "smtp-credentials \"%s\": expected "
		    "\"user:password\" on its first line", path);
		explicit_bzero(buf, sizeof(buf));
		return;
	}
	*colon = '\0';
	free(m->user);
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	m->user = xstrdup(buf);
	m->password = xstrdup(colon + 1);
	explicit_bzero(buf, sizeof(buf));
}

/*
 * The statements of "set NAME VALUE"; ARG is the struct conf.  A path is
 * relative to the directory of the file that names it.
 */
static int
conf_set_path(struct conf_parser *p, const char *what, char **field)
{
	char	*value;

	if (conf_next_string(p, what, &value) == -1)
		return -1;
	free(*field);
	*field = conf_path(p, value);
	free(value);
	return conf_end_statement(p);
}

static int
conf_set_database(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;
	char		*value;

	if (conf_next_string(p, "database path", &value) == -1)
		return -1;
	free(conf->database);
	/* A PostgreSQL conninfo is not a path relative to this file. */
	conf->database = database_is_pg(value) ? xstrdup(value) :
	    conf_path(p, value);
	free(value);
	return conf_end_statement(p);
}

static int
conf_set_socket(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	return conf_set_path(p, "control socket path", &conf->socket);
}

static int
conf_set_timezone(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;
	char		*value;

	if (conf_next_string(p, "time zone", &value) == -1)
		return -1;
	if (conf_valid_timezone(value) == -1)
		conf_error(p, "unknown time zone \"%s\"", value);
	free(conf->timezone);
	conf->timezone = value;
	return conf_end_statement(p);
}

/*
 * "set user" and "set group": whom the daemon becomes after it opened its
 * sockets as root.  Whether the account exists is checked at start (see
 * priv.c), where it matters; root is refused here, it defeats the point.
 */
static int
conf_set_account(struct conf_parser *p, const char *what, char **field)
{
	char	*value;

	if (conf_next_string(p, what[0] == 'u' ? "user name" : "group name",
	    &value) == -1)
		return -1;
	if (value[0] == '\0' || strcmp(value, "root") == 0 ||
	    strcmp(value, "0") == 0)
		conf_error(p, "set %s \"%s\": name an unprivileged %s", what,
		    value, what);
	free(*field);
	*field = value;
	return conf_end_statement(p);
}

static int
conf_set_user(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	return conf_set_account(p, "user", &conf->user);
}

static int
conf_set_group(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	return conf_set_account(p, "group", &conf->group);
}

/*
 * How long the database may refuse writes before operators are alerted
 * (store.c holds the changes meanwhile).
 */
static int
conf_set_store_alert(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	if (conf_next_duration(p, "store-alert-after", 1000, 7 * 86400000LL,
	    &conf->store_alert_after_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

static int
conf_set_smtp(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;
	char			*value;

	if (conf_next_string(p, "SMTP server URL", &value) == -1)
		return -1;
	if (!conf_valid_smtp_url(value))
		conf_error(p, "smtp \"%s\": expected smtp://HOST:PORT or "
		    "smtps://HOST:PORT", value);
	free(m->smtp);
	m->smtp = value;
	m->file = p->file;
	m->line = p->tokline;
	return conf_end_statement(p);
}

static int
conf_set_mail_from(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;
	char			*value;

	if (conf_next_string(p, "sender address", &value) == -1)
		return -1;
	if (!conf_valid_email(value))
		conf_error(p, "mail-from \"%s\": not an email address", value);
	free(m->from);
	m->from = value;
	return conf_end_statement(p);
}

static int
conf_set_starttls(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;
	int			 yes;

	if (conf_next_yesno(p, "smtp-starttls", &yes) == -1)
		return -1;
	m->starttls = yes ? CONF_STARTTLS_YES : CONF_STARTTLS_NO;
	m->set_starttls = 1;
	return conf_end_statement(p);
}

static int
conf_set_credentials(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;
	char			*value;

	if (conf_next_string(p, "credentials file", &value) == -1)
		return -1;
	free(m->credentials);
	m->credentials = conf_path(p, value);
	free(value);
	conf_read_credentials(p, m->credentials);
	return conf_end_statement(p);
}

static int
conf_set_ca_file(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;
	char			*value;

	if (conf_next_string(p, "CA file", &value) == -1)
		return -1;
	free(m->ca_file);
	m->ca_file = conf_path(p, value);
	free(value);
	if (access(m->ca_file, R_OK) == -1)
		conf_error(p, "smtp-ca-file \"%s\": %s", m->ca_file,
		    strerror(errno));
	return conf_end_statement(p);
}

static int
conf_set_mail_alert(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;

	if (conf_next_duration(p, "mail-alert-after", 1000, 7 * 86400000LL,
	    &m->alert_after_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

/* One message, from connecting to the answer to QUIT. */
static int
conf_set_mail_timeout(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;

	if (conf_next_duration(p, "mail-timeout", 1000, 3600000LL,
	    &m->timeout_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

/* "set mail-retry 5s 10m": the first wait, the longest. */
static int
conf_set_mail_retry(struct conf_parser *p, void *arg)
{
	struct mail_conf	*m = &((struct conf *)arg)->mail;

	if (conf_next_duration(p, "mail-retry first wait", 100, 86400000LL,
	    &m->retry_ms) == -1 ||
	    conf_next_duration(p, "mail-retry longest wait", 100, 86400000LL,
	    &m->retry_max_ms) == -1)
		return -1;
	if (m->retry_max_ms < m->retry_ms)
		conf_error(p, "mail-retry: the longest wait is shorter than "
		    "the first");
	return conf_end_statement(p);
}

/*
 * "set resolver ADDRESS[:PORT]" (up to three, asked in turn) and "set
 * dns-ttl MIN MAX": how the probes' host names are resolved and how long
 * an answer is kept.
 */
static int
conf_set_resolver(struct conf_parser *p, void *arg)
{
	struct sockaddr_storage	 ss;
	struct conf		*conf = arg;
	char			*value;
	int			 len;

	if (conf_next_string(p, "resolver address", &value) == -1)
		return -1;
	len = (int)sizeof(ss);
	if (evutil_parse_sockaddr_port(value, (struct sockaddr *)&ss,
	    &len) == -1)
		conf_error(p, "resolver \"%s\": not an address or "
		    "address:port", value);
	else if (conf->nresolvers == CONF_MAX_RESOLVERS)
		conf_error(p, "resolver \"%s\": at most %d resolvers", value,
		    CONF_MAX_RESOLVERS);
	else {
		conf->resolvers[conf->nresolvers++] = value;
		value = NULL;
	}
	free(value);
	return conf_end_statement(p);
}

/* "set dns-ttl 5s 1h": the shortest time kept, the longest. */
static int
conf_set_dns_ttl(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	if (conf_next_duration(p, "dns-ttl shortest", 0, 86400000LL,
	    &conf->dns_ttl_min_ms) == -1 ||
	    conf_next_duration(p, "dns-ttl longest", 0, 86400000LL,
	    &conf->dns_ttl_max_ms) == -1)
		return -1;
	if (conf->dns_ttl_max_ms < conf->dns_ttl_min_ms)
		conf_error(p, "dns-ttl: the longest time is shorter than the "
		    "shortest");
	return conf_end_statement(p);
}

/*
 * "set https-concurrency N": how many https probes (libcurl's transfers,
 * each with its TLS session) run at once; more due wait for a slot
 * (monitor.c).
 */
static int
conf_set_https_concurrency(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;
	long long	 n;

	if (conf_next_number(p, "https-concurrency", 1, 100000, &n) == -1)
		return -1;
	conf->https_concurrency = (int)n;
	return conf_end_statement(p);
}

/*
 * "set history-minutes 7d", "set history-hours 400d": how long the
 * response-time history keeps its minutes before they are rolled up into
 * hours, and its hours before they are deleted.  "set history-bucket 1s"
 * makes a "minute" shorter, for the tests only: a real minute is what
 * the README's size is stated for.
 */
static int
conf_set_history_minutes(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	if (conf_next_duration(p, "history-minutes", 3600000LL,
	    366 * 86400000LL, &conf->history_minutes_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

static int
conf_set_history_hours(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	if (conf_next_duration(p, "history-hours", 86400000LL,
	    10LL * 366 * 86400000LL, &conf->history_hours_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

static int
conf_set_history_bucket(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	if (conf_next_duration(p, "history-bucket", 1000, 60000,
	    &conf->history_bucket_ms) == -1)
		return -1;
	if (conf->history_bucket_ms % 1000 != 0)
		conf_error(p, "history-bucket: whole seconds");
	return conf_end_statement(p);
}

/*
 * "set observations-keep 400d": how long the vantage points' observations
 * (their up/down transitions) are kept.  Not less than a day: what an
 * open outage, a node's current view or an incident within its retention
 * needs is kept longer anyway (store_observations_prune).
 */
static int
conf_set_observations_keep(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	if (conf_next_duration(p, "observations-keep", 86400000LL,
	    10LL * 366 * 86400000LL, &conf->observations_keep_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

/*
 * Several nodes on one register (issue 21): "set node "NAME"" names this
 * node in the nodes table and its observations; "set lead no" makes it
 * one that never leads (lead.c): it probes and writes its observations,
 * and never runs the engine, the clocks or the mail.
 */
static int
conf_set_node(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;
	char		*value;

	if (conf_next_string(p, "node name", &value) == -1)
		return -1;
	if (value[0] == '\0' || strlen(value) > 64) {
		conf_error(p, "node: a name of 1 to 64 characters");
		free(value);
		return -1;
	}
	free(conf->node_name);
	conf->node_name = value;
	return conf_end_statement(p);
}

static int
conf_set_lead(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;

	if (conf_next_yesno(p, "lead", &conf->lead) == -1)
		return -1;
	return conf_end_statement(p);
}

static const struct conf_keyword conf_settings[] = {
	{ "node",		conf_set_node },
	{ "lead",		conf_set_lead },
	{ "database",		conf_set_database },
	{ "socket",		conf_set_socket },
	{ "timezone",		conf_set_timezone },
	{ "user",		conf_set_user },
	{ "group",		conf_set_group },
	{ "store-alert-after",	conf_set_store_alert },
	{ "smtp",		conf_set_smtp },
	{ "mail-from",		conf_set_mail_from },
	{ "smtp-starttls",	conf_set_starttls },
	{ "smtp-credentials",	conf_set_credentials },
	{ "smtp-ca-file",	conf_set_ca_file },
	{ "mail-alert-after",	conf_set_mail_alert },
	{ "mail-timeout",	conf_set_mail_timeout },
	{ "mail-retry",		conf_set_mail_retry },
	{ "resolver",		conf_set_resolver },
	{ "dns-ttl",		conf_set_dns_ttl },
	{ "https-concurrency",	conf_set_https_concurrency },
	{ "history-minutes",	conf_set_history_minutes },
	{ "history-hours",	conf_set_history_hours },
	{ "history-bucket",	conf_set_history_bucket },
	{ "observations-keep",	conf_set_observations_keep },
	{ "web",		conf_set_web },
	{ NULL,			NULL }
};

/* set NAME VALUE... */
int
conf_parse_set(struct conf_parser *p, void *arg)
{
	const struct conf_keyword	*kw;
	char				*name;
	int				 rc;

	if (conf_next_string(p, "setting name after \"set\"", &name) == -1)
		return -1;
	if ((kw = conf_keyword_find(conf_settings, name)) != NULL)
		rc = kw->parse(p, arg);
	else {
		conf_error(p, "unknown setting \"%s\"", name);
		rc = -1;
	}
	free(name);
	return rc;
}

/* role operator|auditor group "NAME" */
int
conf_parse_role(struct conf_parser *p, void *arg)
{
	struct role_conf	*r;
	char			*word = NULL;

	(void)arg;
	r = xcalloc(1, sizeof(*r));
	r->file = p->file;
	r->line = p->line;
	if (conf_next_string(p, "operator or auditor after \"role\"",
	    &word) == -1)
		goto bad;
	if (strcmp(word, "operator") == 0)
		r->role = ROLE_OPERATOR;
	else if (strcmp(word, "auditor") == 0)
		r->role = ROLE_AUDITOR;
	else {
		conf_error(p, "unknown role \"%s\": operator or auditor",
		    word);
		goto bad;
	}
	if (conf_expect_word(p, "group") == -1 ||
	    conf_next_string(p, "group name", &r->group) == -1)
		goto bad;
	if (r->group[0] == '\0') {
		conf_error(p, "empty group name");
		goto bad;
	}
	if (conf_end_statement(p) == -1)
		goto bad;
	free(word);
	TAILQ_INSERT_TAIL(&p->conf->roles, r, entry);
	return 0;
 bad:
	free(word);
	free(r->group);
	free(r);
	return -1;
}

/* category "CODE" "中文名稱" "English name" */
int
conf_parse_category(struct conf_parser *p, void *arg)
{
	struct category_conf	*c;
	const char		*s;

	(void)arg;
	c = xcalloc(1, sizeof(*c));
	c->file = p->file;
	c->line = p->line;
	if (conf_next_string(p, "category code", &c->code) == -1 ||
	    conf_next_string(p, "category name in Chinese",
	    &c->name_zh) == -1 ||
	    conf_next_string(p, "category name in English",
	    &c->name_en) == -1)
		goto bad;
	for (s = c->code; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			break;
	if (c->code[0] == '\0' || *s != '\0' || strlen(c->code) > 16) {
		conf_error(p, "category code \"%s\": capital letters, "
		    "digits and '-', at most 16", c->code);
		goto bad;
	}
	if (conf_end_statement(p) == -1)
		goto bad;
	TAILQ_INSERT_TAIL(&p->conf->categories, c, entry);
	return 0;
 bad:
	free(c->code);
	free(c->name_zh);
	free(c->name_en);
	free(c);
	return -1;
}

/* The statements of contact "NAME" { ... }; ARG is the contact_conf. */
static int
conf_contact_field(struct conf_parser *p, struct contact_conf *c,
    const char *kw, char **slot)
{
	char	*value;

	if (conf_next_string(p, kw, &value) == -1)
		return -1;
	if (*slot != NULL)
		conf_error(p, "contact \"%s\": %s given twice", c->name, kw);
	else if (slot == &c->email && !conf_valid_email(value))
		conf_error(p, "contact \"%s\": \"%s\" is not an email "
		    "address", c->name, value);
	free(*slot);
	*slot = value;
	return conf_end_statement(p);
}

static int
conf_contact_email(struct conf_parser *p, void *arg)
{
	struct contact_conf	*c = arg;

	return conf_contact_field(p, c, "email", &c->email);
}

static int
conf_contact_phone(struct conf_parser *p, void *arg)
{
	struct contact_conf	*c = arg;

	return conf_contact_field(p, c, "phone", &c->phone);
}

static int
conf_contact_name(struct conf_parser *p, void *arg)
{
	struct contact_conf	*c = arg;

	return conf_contact_field(p, c, "name", &c->person);
}

static const struct conf_keyword conf_contact_keywords[] = {
	{ "email",	conf_contact_email },
	{ "phone",	conf_contact_phone },
	{ "name",	conf_contact_name },
	{ NULL,		NULL }
};

static int
conf_contact_stmt(struct conf_parser *p, void *arg)
{
	const struct conf_keyword	*kw;

	if ((kw = conf_keyword_find(conf_contact_keywords, p->text)) != NULL)
		return kw->parse(p, arg);
	conf_error(p, "unknown keyword \"%s\" in contact", p->text);
	return -1;
}

/* contact "NAME" { email "ADDR"; phone "..."; name "..." } */
int
conf_parse_contact(struct conf_parser *p, void *arg)
{
	struct contact_conf	*c;
	char			*what;
	int			 rc;

	(void)arg;
	c = xcalloc(1, sizeof(*c));
	c->file = p->file;
	c->line = p->tokline;
	TAILQ_INSERT_TAIL(&p->conf->contacts, c, entry);
	if (conf_next_string(p, "contact name", &c->name) == -1) {
		c->name = xstrdup("");
		return -1;
	}
	xasprintf(&what, "contact \"%s\"", c->name);
	rc = conf_parse_block(p, what, c->line, conf_contact_stmt, c);
	free(what);
	return rc;
}

/*
 * With a mail server, every recipient the policy tells must be a
 * contact with an address, or its notifications could never go out.
 */
void
conf_check_mail(struct conf *conf, struct conf_errors *errs)
{
	const struct policy	*pol = &conf->policy;
	struct mail_conf	*m = &conf->mail;
	struct contact_conf	*c, *other;
	int			 r;

	TAILQ_FOREACH(c, &conf->contacts, entry) {
		TAILQ_FOREACH(other, &conf->contacts, entry) {
			if (other == c)
				break;
			if (strcmp(other->name, c->name) == 0) {
				conf_error_at(errs, c->file, c->line,
				    "duplicate contact \"%s\" (first defined "
				    "at %s:%d)", c->name, other->file,
				    other->line);
				break;
			}
		}
		if (c->email == NULL)
			conf_error_at(errs, c->file, c->line, "contact \"%s\": "
			    "missing email", c->name);
	}
	if (m->alert_after_ms == 0)
		m->alert_after_ms = CONF_DEFAULT_MAIL_ALERT_MS;
	if (m->retry_ms == 0) {
		m->retry_ms = CONF_DEFAULT_MAIL_RETRY_MS;
		m->retry_max_ms = CONF_DEFAULT_MAIL_RETRY_MAX_MS;
	}
	if (m->timeout_ms == 0)
		m->timeout_ms = CONF_DEFAULT_MAIL_TIMEOUT_MS;
	/* Without a server, mail is off and the rest is kept for later. */
	if (m->smtp == NULL)
		return;
	if (m->from == NULL)
		conf_error_at(errs, m->file, m->line, "smtp: missing \"set "
		    "mail-from\" (the sender address)");
	if (m->set_starttls && strncmp(m->smtp, "smtps://", 8) == 0)
		conf_error_at(errs, m->file, m->line, "smtp-starttls is for "
		    "smtp:// servers; smtps:// is TLS from the start");
	for (r = 0; r < pol->nrecipients; r++) {
		if (pol->webhooks & (1U << r))
			continue;	/* conf_check_webhooks */
		c = conf_find_contact(conf, pol->recipients[r]);
		if (c == NULL || c->email == NULL)
			conf_error_at(errs, conf->tell_file[r],
			    conf->tell_line[r], "tell \"%s\": no contact "
			    "\"%s\" with an email address, and \"set smtp\" "
			    "mails every notification", pol->recipients[r],
			    pol->recipients[r]);
	}
}

/* A group given two roles, a category code given twice. */
void
conf_check_lists(struct conf *conf, struct conf_errors *errs)
{
	const struct role_conf		*r, *r2;
	const struct category_conf	*c, *c2;

	TAILQ_FOREACH(r, &conf->roles, entry)
		for (r2 = TAILQ_FIRST(&conf->roles); r2 != r;
		    r2 = TAILQ_NEXT(r2, entry))
			if (strcmp(r->group, r2->group) == 0) {
				conf_error_at(errs, r->file, r->line,
				    "group \"%s\" already has a role at "
				    "%s:%d", r->group, r2->file, r2->line);
				break;
			}
	TAILQ_FOREACH(c, &conf->categories, entry)
		for (c2 = TAILQ_FIRST(&conf->categories); c2 != c;
		    c2 = TAILQ_NEXT(c2, entry))
			if (strcmp(c->code, c2->code) == 0) {
				conf_error_at(errs, c->file, c->line,
				    "category \"%s\" already defined at "
				    "%s:%d", c->code, c2->file, c2->line);
				break;
			}
}
