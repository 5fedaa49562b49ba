# AI Gateway: a static binary on a minimal base, run as a non-root user.
#
#   docker build -t ai-gateway .
#   docker run -p 8090:8090 -v aigw-data:/data ai-gateway
#
# The first launch writes /data/config.yaml, the SQLite database and the master key under /data and
# prints the admin password in the container's log. deploy/compose.yaml runs several instances.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      -o /out/ai-gateway . \
 && mkdir -p /out/data

# distroless/static: CA certificates and time zones, no shell, no package manager; uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ai-gateway /ai-gateway
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
VOLUME /data
EXPOSE 8090
# The image has no curl or wget: the binary asks its own /readyz.
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 CMD ["/ai-gateway", "healthcheck"]
ENTRYPOINT ["/ai-gateway"]
CMD ["-config", "/data/config.yaml"]
