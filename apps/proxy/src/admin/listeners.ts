/** `/listeners`: `name::address` lines, or admin.v3.Listeners JSON (listeners_handler.cc). */
import { addressToJson } from './address.js';
import type { ListenerStatus } from './context.js';

export function renderListenersText(listeners: readonly ListenerStatus[]): string {
  return listeners.map((listener) => `${listener.name}::${listener.address}\n`).join('');
}

export function renderListenersJson(listeners: readonly ListenerStatus[]): string {
  const listener_statuses = listeners.map((listener) => ({ name: listener.name, local_address: addressToJson(listener.address) }));
  return `${JSON.stringify({ listener_statuses }, null, 2)}\n`;
}
