#!/bin/sh
# Registers the Temporal namespace linedesk uses once the server answers; does nothing when it
# exists already. docker-compose.yml runs it in the temporalio/admin-tools image after the
# server is healthy, and starts api and worker only when it has succeeded.
#
# Environment: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE (default "default"),
# TEMPORAL_NAMESPACE_RETENTION (how long closed workflows are kept, default 720h = 30 days).
set -eu

TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
TEMPORAL_NAMESPACE_RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-720h}"

attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 60 ]; then
    echo "temporal-namespace: the server at $TEMPORAL_ADDRESS is not serving after 2 minutes" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" \
  --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "temporal-namespace: $TEMPORAL_NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" \
    --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION"
  echo "temporal-namespace: created $TEMPORAL_NAMESPACE"
fi
