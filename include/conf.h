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
#include "maint.h"
#include "policy.h"

struct probe_ops;
struct conf_parser;

#define CONF_DEFAULT_PATH	"/etc/rtowatch/rtowatch.conf"
#define CONF_DEFAULT_DATABASE	"/var/lib/rtowatch/rtowatch.db"
#define CONF_DEFAULT_TIMEZONE	"Asia/Taipei"
#define CONF_DEFAULT_SOCKET	"/run/rtowatch/control.sock"
#define CONF_DEFAULT_EVERY_MS	(30 * 1000LL)
#define CONF_DEFAULT_TIMEOUT_MS	(5 * 1000LL)
#define CONF_DEFAULT_DOWN_AFTER	3
#define CONF_DEFAULT_UP_AFTER	2
#define CONF_MAX_ERRORS		100

struct check_conf {
	TAILQ_ENTRY(check_conf)	 entry;
	const struct probe_ops	*ops;
	char			*target;	/* host, URL or name */
	int64_t			 every_ms;
	int64_t			 timeout_ms;
	int			 set_timeout;	/* else it may shrink */
	void			*opts;		/* the probe kind's options */
	const char		*file;
	int			 line;
};
TAILQ_HEAD(check_list, check_conf);

struct system_conf {
	TAILQ_ENTRY(system_conf) entry;
	char			*name;
	char			*owner;
	int			 core;			/* -1: not set */
	int			 critical_infrastructure;/* -1: not set */
	int64_t			 rto_ms;		/* 0: not set */
	int			 down_after;
	int			 up_after;
	struct check_list	 checks;
	int			 nchecks;
	char			**depends;	/* parents' names */
	int			*depends_line;
	int			 ndepends;
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

struct conf {
	char			*path;
	char			*database;
	char			*timezone;	/* of maintenance windows */
	char			*socket;	/* the control socket's path */
	struct role_list	 roles;
	struct category_list	 categories;
	struct system_list	 systems;
	struct maint_list	 maints;
	struct anomaly_list	 anomalies;	/* traffic counters */
	int			 nsystems;
	char			**files;	/* every file read, for lines */
	int			 nfiles;
	struct policy		 policy;	/* rules/policy.conf */
	const char		*policy_file;	/* NULL: no policy block */
	int			 policy_line;
};

struct conf_errors {
	char			**msg;
	int			 count;
};

struct conf	*conf_load(const char *, struct conf_errors *);
struct conf	*conf_parse_buffer(const char *, const char *, size_t,
		    struct conf_errors *);
void		 conf_free(struct conf *);
void		 conf_errors_clear(struct conf_errors *);
struct system_conf *conf_find_system(const struct conf *, const char *);
const struct category_conf *conf_find_category(const struct conf *,
		    const char *);

/* For the probe kinds' option parsers. */
void	conf_error(struct conf_parser *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	conf_next_string(struct conf_parser *, const char *, char **);
int	conf_next_number(struct conf_parser *, const char *, long long,
	    long long, long long *);
int	conf_next_duration(struct conf_parser *, const char *, int64_t,
	    int64_t, int64_t *);
int	conf_parse_duration(const char *, int64_t *);

#endif
