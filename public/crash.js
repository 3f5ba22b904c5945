// When the app's WebAssembly dies, say so and offer a reload. A release
// build traps on a panic (no message, no hook), and after a trap nothing in
// the page answers any more: a person must see that, not a frozen screen.
// Plain JavaScript on purpose: it has to work when the wasm cannot.
(function () {
  'use strict';
  var shown = false;

  function fromWasm(error) {
    if (typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError) return true;
    var text = error && (error.stack || error.message || String(error));
    return typeof text === 'string' && /wasm-function|\.wasm:|unreachable/i.test(text);
  }

  function crashed(error) {
    if (shown) return;
    shown = true;
    console.error('Noom stopped working in this tab; reload to continue.', error);
    var box = document.createElement('div');
    box.className = 'crash';
    box.setAttribute('role', 'alertdialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-labelledby', 'crash-title');
    box.setAttribute('data-testid', 'crash');
    var card = document.createElement('div');
    card.className = 'card narrow';
    var title = document.createElement('h2');
    title.id = 'crash-title';
    title.textContent = 'Something went wrong';
    var text = document.createElement('p');
    text.className = 'muted';
    text.textContent = 'Noom stopped working in this tab. Reload to get back in; nobody else is affected.';
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'primary';
    button.textContent = 'Reload';
    button.addEventListener('click', function () { location.reload(); });
    card.appendChild(title);
    card.appendChild(text);
    card.appendChild(button);
    box.appendChild(card);
    (document.body || document.documentElement).appendChild(box);
    button.focus();
  }

  addEventListener('error', function (event) {
    if (fromWasm(event.error || event.message)) crashed(event.error || event.message);
  });
  addEventListener('unhandledrejection', function (event) {
    if (fromWasm(event.reason)) crashed(event.reason);
  });
})();
