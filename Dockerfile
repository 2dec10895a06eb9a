# Builds the kseal-controller image: a static binary on an empty base,
# running as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/kseal-controller ./cmd/kseal-controller

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/kseal-controller /kseal-controller
USER 65532:65532
ENTRYPOINT ["/kseal-controller"]
