/** Where a proxy listens: the app's settings, the tunnel state and `--listen` alike. */
export interface ListenAddress {
  host: string;
  port: number;
}
