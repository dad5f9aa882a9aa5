/*
 * capture.h: where the traffic counters get their packets: the live
 * interfaces of the anomaly blocks (libpcap, non-blocking, on the event
 * loop) or one capture file fed to every block.
 */
#ifndef RTOWATCH_CAPTURE_H
#define RTOWATCH_CAPTURE_H

struct capture;
struct conf;
struct engine;
struct event_base;
struct store;

#include <stdint.h>

/* What rtowatch status shows of an anomaly block. */
struct capture_status {
	const char	*name;
	const char	*interface;
	double		 packets_per_s;	/* the last whole window */
	double		 bytes_per_s;
	uint64_t	 packets;	/* since start */
	unsigned	 dropped;	/* by the kernel, since start */
	int		 episodes;	/* open now */
	const char	*error;		/* why it does not capture, or NULL */
};

struct capture	*capture_new(struct store *, const struct conf *);
int		 capture_run_file(struct capture *, const char *);
int		 capture_start_live(struct capture *, struct event_base *);
int		 capture_reload(struct capture *, const struct conf *,
		    struct event_base *);
void		 capture_stop(struct capture *, const char *);
void		 capture_end_orphans(struct capture *);
void		 capture_set_engine(struct capture *, struct engine *);
void		 capture_log_stats(struct capture *);
int		 capture_status(struct capture *,
		    int (*)(const struct capture_status *, void *), void *);
void		 capture_free(struct capture *);

#endif
