// An echo server that holds every connection open until the peer closes it: the far end of the
// idle-tunnel measurement. Usage: node bench/servers/echo.mjs <port>
import net from 'node:net';

const port = Number(process.argv[2]);
const server = net.createServer((socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.maxConnections = 50_000;
server.listen({ port, host: '127.0.0.1', backlog: 4096 });
process.on('SIGTERM', () => process.exit(0));
