/*
 * The iterator's modes that the configuration chooses, in a header of their
 * own: resolver/daemon/config.h stores them without including the whole
 * iterator (and with it the caches, DNSSEC and metrics), and the iterator
 * (iterator.h) reads them from its iter_config.
 */
#ifndef CHAINDNS_ITER_MODES_H
#define CHAINDNS_ITER_MODES_H

/* QNAME minimisation (RFC 9156). Relaxed: a minimised query that gets an
 * error, a lame answer or (without nothing-below-nxdomain: yes) NXDOMAIN
 * is asked again with the full name. Strict: such answers stand. */
enum qmin_mode { QMIN_OFF, QMIN_RELAXED, QMIN_STRICT };

/* Which NXDOMAINs mean nothing exists below the name (RFC 8020): only
 * DNSSEC-validated ones, every one, or none. */
enum nxcut_mode { NXCUT_DNSSEC, NXCUT_YES, NXCUT_NO };

#endif
