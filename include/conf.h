/*
 * conf.h: the rules language, parsed into a struct conf.
 *
 * The parser reads the whole file (and its includes), records every error
 * as "FILE:LINE: message" and goes on, then runs a second, semantic pass
 * (duplicates, required settings, ranges that depend on each other).  A
 * struct conf is only returned when there was no error at all.
 */
#ifndef RTOWATCH_CONF_H
#define RTOWATCH_CONF_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly_rules.h"
#include "lazylib.h"
#include "maint.h"
#include "policy.h"
#include "rtowatch.h"

struct probe_ops;
struct conf_parser;

#define CONF_DEFAULT_PATH	RTOWATCH_RULES_DEFAULT
#define CONF_DEFAULT_DATABASE	RTOWATCH_DB_DEFAULT
#define CONF_DEFAULT_TIMEZONE	"Asia/Taipei"
#define CONF_DEFAULT_SOCKET	RTOWATCH_SOCKET_DEFAULT
#define CONF_DEFAULT_EVERY_MS	(30 * 1000LL)
#define CONF_DEFAULT_TIMEOUT_MS	(5 * 1000LL)
#define CONF_DEFAULT_DOWN_AFTER	3
#define CONF_DEFAULT_UP_AFTER	2
#define CONF_MAX_ERRORS		100
#define CONF_DEFAULT_MAIL_ALERT_MS	(15LL * 60 * 1000)
#define CONF_DEFAULT_STORE_ALERT_MS	(5LL * 60 * 1000)
#define CONF_DEFAULT_MAIL_RETRY_MS	(5LL * 1000)
#define CONF_DEFAULT_MAIL_RETRY_MAX_MS	(10LL * 60 * 1000)
#define CONF_DEFAULT_MAIL_TIMEOUT_MS	(60LL * 1000)
#define CONF_DEFAULT_DNS_TTL_MIN_MS	(5LL * 1000)
#define CONF_DEFAULT_DNS_TTL_MAX_MS	(3600LL * 1000)
#define CONF_MAX_RESOLVERS	3	/* as resolv.conf's MAXNS */
#define CONF_DEFAULT_HTTPS_CONCURRENCY	128
#define CONF_DEFAULT_HISTORY_BUCKET_MS	(60LL * 1000)
#define CONF_DEFAULT_HISTORY_MINUTES_MS	(7LL * 86400 * 1000)
#define CONF_DEFAULT_HISTORY_HOURS_MS	(400LL * 86400 * 1000)
/* As long as the history's hours: a year and a month (README). */
#define CONF_DEFAULT_OBSERVATIONS_KEEP_MS (400LL * 86400 * 1000)

/*
 * "down when N of M vantage points fail" (engine_step_quorum); need 0:
 * not set, 1 of 1 (the local node alone decides).
 */
#define CONF_MAX_VANTAGE	32
struct conf_quorum {
	int			 need;
	int			 of;
};

struct check_conf {
	TAILQ_ENTRY(check_conf)	 entry;
	const struct probe_ops	*ops;
	char			*target;	/* host, URL or name */
	/*
	 * ops->describe's, made once (conf_strdup's): rtowatch status's
	 * name for the check, its observations' and its history's, which
	 * the engine, the monitors and the history point at instead of
	 * copying.
	 */
	char			*desc;
	int64_t			 every_ms;
	int64_t			 timeout_ms;
	void			*opts;		/* the probe kind's options */
	const char		*file;
	int			 line;
	int			 set_timeout;	/* else it may shrink */
};
TAILQ_HEAD(check_list, check_conf);

/* A check's description at most, NUL included (a long URL's is cut). */
#define CONF_CHECK_DESC_MAX	512

struct system_conf {
	TAILQ_ENTRY(system_conf) entry;
	char			*name;		/* conf_strdup's */
	char			*owner;		/* conf_intern's, or NULL */
	int			 core;			/* -1: not set */
	int			 critical_infrastructure;/* -1: not set */
	int64_t			 rto_ms;		/* 0: not set */
	int			 down_after;
	int			 up_after;
	struct conf_quorum	 quorum;	/* need 0: the global one */
	struct check_list	 checks;
	int			 nchecks;
	char			**depends;	/* parents' names, interned */
	int			*depends_line;
	size_t			 ndepends;
	/* "vantage points "a" "b"": the nodes that probe it; 0: all. */
	char			**vantage;
	size_t			 nvantage;
	int			 vantage_line;
	int			 bad_checks;	/* with errors, not kept */
	const char		*file;
	int			 line;
};
TAILQ_HEAD(system_list, system_conf);

/* role operator|auditor group "G": what the control socket lets G do. */
enum conf_role {
	ROLE_NONE,
	ROLE_AUDITOR,	/* read everything, change nothing */
	ROLE_OPERATOR	/* read, and every workflow action */
};

struct role_conf {
	TAILQ_ENTRY(role_conf)	 entry;
	enum conf_role		 role;
	char			*group;
	const char		*file;
	int			 line;
};
TAILQ_HEAD(role_list, role_conf);

/* category "CODE" "中文" "English": the event categories (5.2.3.1). */
struct category_conf {
	TAILQ_ENTRY(category_conf) entry;
	char			*code;
	char			*name_zh;
	char			*name_en;
	const char		*file;
	int			 line;
};
TAILQ_HEAD(category_list, category_conf);

/* contact "NAME" { email "ADDR" [phone "..."] [name "..."] } */
struct contact_conf {
	TAILQ_ENTRY(contact_conf) entry;
	char			*name;
	char			*email;
	char			*phone;		/* NULL: not given */
	char			*person;	/* name "...", for the draft */
	const char		*file;
	int			 line;
};
TAILQ_HEAD(contact_list, contact_conf);

/*
 * webhook "NAME" url "URL" [format generic|slack|teams|matrix]
 *     [secret-file "PATH"] [ca-file "PATH"]: an HTTP endpoint that
 * "tell ... webhook NAME" posts the notifications to (webhook.c).
 */
enum conf_webhook_format {
	CONF_WEBHOOK_GENERIC,	/* rtowatch's own JSON, signed */
	CONF_WEBHOOK_SLACK,	/* text and blocks */
	CONF_WEBHOOK_TEAMS,	/* an Adaptive Card */
	CONF_WEBHOOK_MATRIX	/* an m.room.message's content */
};

struct webhook_conf {
	TAILQ_ENTRY(webhook_conf) entry;
	char			*name;
	char			*url;
	enum conf_webhook_format format;
	char			*ca_file;	/* NULL: the system's CAs */
	char			*secret_file;	/* NULL: unsigned */
	unsigned char		*secret;	/* its first line */
	size_t			 secret_len;
	const char		*file;
	int			 line;
};
TAILQ_HEAD(webhook_list, webhook_conf);

/* The SMTP sender's settings; smtp NULL: mail is off. */
enum conf_starttls {
	CONF_STARTTLS_TRY,	/* when the server offers it (default) */
	CONF_STARTTLS_YES,	/* required */
	CONF_STARTTLS_NO
};

struct mail_conf {
	char			*smtp;		/* smtp://HOST:PORT, smtps:// */
	char			*from;
	enum conf_starttls	 starttls;
	int			 set_starttls;
	char			*credentials;	/* the file, for messages */
	char			*user;		/* from it */
	char			*password;
	char			*ca_file;
	int64_t			 alert_after_ms;
	int64_t			 retry_ms;	/* the first retry's wait */
	int64_t			 retry_max_ms;	/* doubling up to this */
	int64_t			 timeout_ms;	/* one message, QUIT included */
	const char		*file;		/* of set smtp */
	int			 line;
};

/* set web ...: the web page (web.c); listen NULL: off. */
struct web_conf {
	char			*listen;	/* ADDRESS:PORT */
	char			*cert;		/* set web tls */
	char			*key;
	char			**public;	/* systems on /public */
	int			 npublic;
	char			*metrics_token;	/* set web metrics-token */
	const char		*file;		/* of set web listen */
	int			 line;
	const char		*public_file;
	int			 public_line;
};

/*
 * Texts that live as long as the rules: the systems' names and the
 * checks' descriptions, one after another in blocks (BLOCKS, the current
 * one first, USED of ROOM), and those the rules repeat (the systems'
 * owners, their parents' names), kept once: an open-addressing set of N
 * of CAP (a power of two) slots.
 */
struct conf_block;
struct conf_strings {
	struct conf_block	*blocks;
	size_t			 used, room;
	char			**slots;
	size_t			 n, cap;
};

struct conf {
	char			*path;
	char			*database;
	/*
	 * This node of a shared register (set node, set lead): its name
	 * in the nodes table and its observations, and whether it may take
	 * the lead (lead.c; no: it only probes and observes).
	 */
	char			*node_name;	/* default: gethostname() */
	int			 lead;		/* default yes */
	char			*timezone;	/* of maintenance windows */
	char			*user;		/* NULL: stay who we are */
	char			*group;		/* NULL: the user's group */
	char			*socket;	/* the control socket's path */
	struct role_list	 roles;
	struct category_list	 categories;
	struct system_list	 systems;
	struct conf_strings	 strings;	/* conf_strdup's, conf_intern's */
	struct maint_list	 maints;
	struct anomaly_list	 anomalies;	/* traffic counters */
	int			 nsystems;
	char			**files;	/* every file read, for lines */
	size_t			 nfiles;
	struct policy		 policy;	/* rules/policy.conf */
	const char		*policy_file;	/* NULL: no policy block */
	int			 policy_line;
	/* Where each policy recipient was first named by "tell". */
	const char		*tell_file[POLICY_MAX_RECIPIENTS];
	int			 tell_line[POLICY_MAX_RECIPIENTS];
	struct contact_list	 contacts;
	struct webhook_list	 webhooks;
	struct mail_conf	 mail;
	/* How the probes' host names are resolved (probes/resolve.c). */
	char			*resolvers[CONF_MAX_RESOLVERS]; /* ADDR[:PORT] */
	int			 nresolvers;	/* 0: /etc/resolv.conf's */
	int64_t			 dns_ttl_min_ms;
	int64_t			 dns_ttl_max_ms;
	/* https probes (libcurl's transfers) running at once (monitor.c). */
	int			 https_concurrency;
	/* The database refusing writes this long alerts the operators. */
	int64_t			 store_alert_after_ms;
	/*
	 * The response-time history (history.c): a bucket a minute kept
	 * history_minutes_ms, then an hour's kept history_hours_ms.  The
	 * bucket is shorter only in tests (set history-bucket 1s); an
	 * "hour" is always 60 buckets.
	 */
	int64_t			 history_bucket_ms;
	int64_t			 history_minutes_ms;
	int64_t			 history_hours_ms;
	/*
	 * The vantage points' observations older than this are pruned
	 * (store_observations_prune), but for those a view, an open outage
	 * or an incident within its retention still needs.
	 */
	int64_t			 observations_keep_ms;
	struct web_conf		 web;
	/* The quorum of vantage points every system's outage needs. */
	struct conf_quorum	 quorum;
};

struct conf_errors {
	char			**msg;
	size_t			 count;
};

struct conf	*conf_load(const char *, struct conf_errors *);
struct conf	*conf_parse_buffer(const char *, const char *, size_t,
		    struct conf_errors *);
void		 conf_free(struct conf *);
void		 conf_copy_web(struct web_conf *, const struct web_conf *);
void		 conf_free_web(struct web_conf *);
void		 conf_errors_clear(struct conf_errors *);
struct system_conf *conf_find_system(const struct conf *, const char *);
char		*conf_strdup(struct conf *, const char *);
char		*conf_intern(struct conf *, const char *);
int	conf_system_probed_here(const struct conf *,
	    const struct system_conf *);
const struct category_conf *conf_find_category(const struct conf *,
		    const char *);
struct contact_conf *conf_find_contact(const struct conf *, const char *);
const struct webhook_conf *conf_find_webhook(const struct conf *,
		    const char *);
const char	*conf_webhook_format_name(enum conf_webhook_format);

/* For the probe kinds' option parsers. */
void	conf_error(struct conf_parser *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	conf_need_lib(struct conf_parser *, enum lazylib, const char *);
int	conf_next_string(struct conf_parser *, const char *, char **);
const char	*conf_parser_intern(struct conf_parser *, const char *);
const char	*conf_parser_strdup(struct conf_parser *, const char *);
int	conf_next_number(struct conf_parser *, const char *, long long,
	    long long, long long *);
int	conf_next_duration(struct conf_parser *, const char *, int64_t,
	    int64_t, int64_t *);
int	conf_parse_duration(const char *, int64_t *);
int	conf_web_loopback(const char *);

#endif
