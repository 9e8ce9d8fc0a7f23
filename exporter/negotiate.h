/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Content negotiation on the Accept header, as client_golang's
 * expfmt.NegotiateIncludingOpenMetrics() does it: the media ranges are
 * taken by falling q-value (ties in the order given); the first that names
 * a format we write wins: application/openmetrics-text (version 1.0.0,
 * 0.0.1 or none) for OpenMetrics, text/plain (version 0.0.4 or none) for
 * the text format. Ranges with q=0 or a malformed q are not acceptable;
 * wildcards, other types and other versions name nothing. Nothing named,
 * no header, or a header we cannot parse: the text format, which every
 * Prometheus reads.
 */
#pragma once

#include "render.h"

enum exposition_format negotiate_format(const char *accept);
