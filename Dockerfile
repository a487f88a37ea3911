# s3dns container image: a static binary on distroless, running as non-root.
#
#   docker build --build-arg VERSION=$(git describe --always) --build-arg COMMIT=$(git rev-parse HEAD) -t s3dns .
#   docker run -d -p 53:53/udp -p 53:53/tcp -p 9153:9153 \
#     -e S3DNS_UPSTREAMS=10.0.0.2 \
#     -e S3DNS_ENDPOINTS='[{region: eu-west-2, hostname: vpce-...s3.eu-west-2.vpce.amazonaws.com, buckets: [mybucket]}]' s3dns
#
# Port 53 without root: the process runs as UID 65532 with no capabilities.
# Docker (20.10+) sets net.ipv4.ip_unprivileged_port_start=0 in each container's
# network namespace, so it may bind 53; on Kubernetes set the same namespaced
# sysctl in the pod's securityContext (deploy/kubernetes). Where neither is
# possible, set S3DNS_LISTEN=:5353 and publish 53 -> 5353.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# build-command (integration/docker_test.go runs this exact line)
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/s3dns/s3dns/app.Version=${VERSION} -X github.com/s3dns/s3dns/app.Commit=${COMMIT}" -o /out/s3dns ./cmd/s3dns

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/s3dns /usr/local/bin/s3dns
# The image's defaults (listen :53, HTTP :9153, JSON logs) are a file, not
# ENV: every S3DNS_* variable and flag overrides them, and a file mounted at
# /etc/s3dns/s3dns.yaml replaces them (ENV would override the mounted file).
COPY deploy/container/s3dns.yaml /etc/s3dns/s3dns.yaml
EXPOSE 53/udp 53/tcp 9153/tcp
USER 65532:65532
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/s3dns", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/s3dns"]
CMD ["serve"]
