/*
 * probe.h: the one interface every probe kind implements.
 *
 * A probe file defines one const struct probe_ops; probe_kinds[] lists
 * them.  The scheduler calls start() with a fresh struct probe; the probe
 * reports exactly once through probe_done(), or is cancel()led first and
 * then reports nothing.  Adding a probe kind touches one new file and one
 * line in probes/probe.c.
 */
#ifndef RTOWATCH_PROBE_H
#define RTOWATCH_PROBE_H

#include <stdint.h>

struct addrinfo;
struct event_base;
struct evdns_base;
struct conf_parser;
struct check_conf;

enum probe_result {
	PROBE_OK = 0,
	PROBE_TIMEOUT,
	PROBE_REFUSED,
	PROBE_UNREACHABLE,
	PROBE_DNS_FAILURE,
	PROBE_BAD_STATUS,
	PROBE_CONTENT_MISMATCH,
	PROBE_TLS_ERROR,
	PROBE_CERT_EXPIRED,
	PROBE_CERT_EXPIRING,	/* still valid, but within cert-expiry */
	PROBE_ERROR,
	/*
	 * The monitoring host itself failed (out of descriptors, buffers or
	 * memory): nothing is known about the target.  The scheduler counts
	 * it against the host and never gives it to the engine, so it opens
	 * no incident and counts for no outage (monitor.c).
	 */
	PROBE_LOCAL_ERROR,
	PROBE_RESULT_MAX
};

struct probe;
typedef void (*probe_done_cb)(struct probe *, void *);
/*
 * What a kind does with the addresses probe_resolve() found for a host:
 * a list of one or more, valid only during the call.
 */
typedef void (*probe_resolved_cb)(struct probe *, const struct addrinfo *);

struct probe {
	const struct probe_ops	*ops;
	const struct check_conf	*check;	/* valid until done or cancelled */
	struct event_base	*base;
	struct evdns_base	*dns;
	probe_done_cb		 done;
	void			*arg;
	int64_t			 started_at;	/* wall ms */
	int64_t			 started_mono;	/* mono ms */
	enum probe_result	 result;
	int64_t			 rtt_ms;
	char			 detail[256];
	void			*priv;		/* the probe kind's state */
	void			*common;	/* probe.c's state */
	/*
	 * Optional, set by who started a pooled probe: asked by the kind
	 * before the costly part (the TLS handshake) of a probe whose slot
	 * was lent while TCP went unanswered.  1: go on; 0: wait for
	 * probe_resume().  ARG is the probe's arg.
	 */
	int			(*gate)(struct probe *, void *);
};

struct probe_ops {
	const char	*name;
	/*
	 * Optional: state shared by all probes of this kind on the loop
	 * (a raw socket, a curl multi handle), set up once by main before
	 * privileges are dropped and torn down at exit.
	 */
	int		 (*init)(struct event_base *, struct evdns_base *);
	void		 (*shutdown)(void);
	/*
	 * Parse one option word of "check KIND TARGET ..." (the current
	 * word, read with conf_next_*() for its arguments): 1 when taken,
	 * 0 when not this kind's option, -1 after conf_error().
	 */
	int		 (*option)(struct conf_parser *, struct check_conf *,
			    const char *);
	/* After the last option: required options, the target's form. */
	int		 (*finish)(struct conf_parser *, struct check_conf *);
	/* Describe the target for logs ("127.0.0.1 port 22"). */
	void		 (*describe)(const struct check_conf *, char *, size_t);
	void		 (*start)(struct probe *);
	/*
	 * Optional: 1 when this check's probes hold much memory while they
	 * run (a TLS transfer): the scheduler runs at most "set
	 * https-concurrency" of those at once (monitor.c).
	 */
	int		 (*pooled)(const struct check_conf *);
	/*
	 * Optional, with pooled: 1 while the probe still waits for its TCP
	 * handshake (or its name), holding little; the scheduler then lends
	 * its slot to a waiting probe.
	 */
	int		 (*connecting)(struct probe *);
	/*
	 * Optional, with connecting: go on after probe_gate() said to wait.
	 * It must not report before it returns (the scheduler is walking
	 * its queue).
	 */
	void		 (*resume)(struct probe *);
	/*
	 * Optional: the check's timeout came with the name resolved and the
	 * probe still at work.  Report it through probe_done(), saying which
	 * step it caught ("connected, but no banner within 2s").  WITHIN is
	 * the timeout as text.  Without it: "no answer within 2s".
	 */
	void		 (*expire)(struct probe *, const char *within);
	/*
	 * Optional: the check's timeout came, maybe late, the loop having
	 * been held.  Look at the socket without waiting and, if the answer
	 * is already there, go on with it as its event would (which may
	 * report through probe_done()).  Called before expire().
	 */
	void		 (*ready)(struct probe *);
	void		 (*cancel)(struct probe *);
	void		 (*free_opts)(struct check_conf *);
};

extern const struct probe_ops *const probe_kinds[];

int			 probe_init_all(struct event_base *,
			    struct evdns_base *);
void			 probe_shutdown_all(void);
const struct probe_ops	*probe_find(const char *);
const char		*probe_result_str(enum probe_result);
struct probe		*probe_start(struct event_base *, struct evdns_base *,
			    const struct check_conf *, probe_done_cb, void *);
void			 probe_cancel(struct probe *);
int			 probe_connecting(struct probe *);
int			 probe_gate(struct probe *);
void			 probe_resume(struct probe *);
void			 probe_done(struct probe *, enum probe_result,
			    const char *, ...)
			    __attribute__((format(printf, 3, 4)));
void			 probe_free(struct probe *);
int			 probe_host_valid(const char *);
int			 probe_errno_local(int);
void			 probe_resolve(struct probe *, const char *, int,
			    probe_resolved_cb);

extern const struct probe_ops probe_tcp_ops;
extern const struct probe_ops probe_http_ops;
extern const struct probe_ops probe_dns_ops;
extern const struct probe_ops probe_icmp_ops;

#endif
