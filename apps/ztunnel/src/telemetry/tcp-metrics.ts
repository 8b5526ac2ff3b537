// ztunnel's four stable TCP counters (reference §8.1), keyed by label set and rendered with @weft/metrics. A
// connection resolves its series once at open; the data path then only adds to plain numbers.

import { renderPrometheus, type MetricFamily } from '@weft/metrics';

import { TRAFFIC_LABEL_NAMES, type ResponseFlag, type TrafficLabels } from './traffic-labels';

interface Series {
  readonly labels: TrafficLabels;
  opened: number;
  closed: number;
  sent: number;
  received: number;
}

/** The counters of one connection. */
export interface ConnectionMeter {
  /**
   * Bytes relayed downstream → upstream (ztunnel `increment_send`), added to `istio_tcp_sent_bytes_total` as they
   * flow. Istio's source-reporter direction is flipped; the access log un-flips it (see `accessLogBytes`).
   */
  sent(bytes: number): void;
  /** Bytes relayed upstream → downstream (ztunnel `increment_recv`), added to `istio_tcp_received_bytes_total`. */
  received(bytes: number): void;
  /** Counts the close, under the final response flag; later calls do nothing. */
  close(flag?: ResponseFlag): void;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

export interface TcpMetrics {
  /** Counts a connection as opened under `labels` and returns its meter. */
  open(labels: TrafficLabels): ConnectionMeter;
  families(): MetricFamily[];
  render(): string;
}

function keyOf(labels: TrafficLabels): string {
  return TRAFFIC_LABEL_NAMES.map((n) => labels[n] ?? '\u0001').join('\u0000');
}

export function createTcpMetrics(): TcpMetrics {
  const series = new Map<string, Series>();

  function seriesFor(labels: TrafficLabels): Series {
    const key = keyOf(labels);
    let s = series.get(key);
    if (s === undefined) {
      s = { labels, opened: 0, closed: 0, sent: 0, received: 0 };
      series.set(key, s);
    }
    return s;
  }

  /** Bytes series exist from a connection's open, as ztunnel fetches them then; close-only series carry none. */
  function family(name: string, help: string, pick: (s: Series) => number, include: (s: Series) => boolean): MetricFamily {
    const samples = [...series.values()].filter(include).map((s) => ({ labels: s.labels as Record<string, string>, value: pick(s) }));
    return { name, help, type: 'counter', samples };
  }

  return {
    open(labels) {
      const openSeries = seriesFor(labels);
      openSeries.opened += 1;
      let closed = false;
      let sent = 0;
      let received = 0;
      return {
        sent(bytes) {
          sent += bytes;
          openSeries.sent += bytes;
        },
        received(bytes) {
          received += bytes;
          openSeries.received += bytes;
        },
        close(flag = '-') {
          if (closed) return;
          closed = true;
          // ztunnel sets the flag just before recording the close, so only the close carries it.
          const closeSeries = flag === (labels.response_flags ?? '-') ? openSeries : seriesFor({ ...labels, response_flags: flag });
          closeSeries.closed += 1;
        },
        get bytesSent() {
          return sent;
        },
        get bytesReceived() {
          return received;
        },
      };
    },
    families,
    render: () => renderPrometheus(families()),
  };

  function families(): MetricFamily[] {
    const opened = (s: Series) => s.opened > 0;
    return [
      family('istio_tcp_connections_opened_total', 'The total number of TCP connections opened', (s) => s.opened, opened),
      family('istio_tcp_connections_closed_total', 'The total number of TCP connections closed', (s) => s.closed, (s) => s.closed > 0),
      family('istio_tcp_received_bytes_total', 'The size of total bytes received during request in case of a TCP connection', (s) => s.received, opened),
      family('istio_tcp_sent_bytes_total', 'The size of total bytes sent during response in case of a TCP connection', (s) => s.sent, opened),
    ];
  }
}
