import http from 'node:http';

/** Passes one plain HTTP request on to `to` and its answer back, as a
 *  reverse proxy does; a page that stops listening (an event stream it
 *  closed) ends the request upstream too. */
export function forward(req: http.IncomingMessage, res: http.ServerResponse, to: URL) {
  const out = http.request(
    { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => res.destroy());
  res.on('close', () => out.destroy());
  req.pipe(out);
}
