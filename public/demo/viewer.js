/*
 * The demo pages' viewer: asks the demo server for a guest token (POST /demo/token, served in
 * demo mode only) so the widget's chat box posts as someone. The widget calls it through
 * data-holdline-token-fn at start, before the token expires, and after a 401; without demo
 * mode it fails and the widget carries on without a token (chat is then read-only).
 */
(function (window, document) {
  'use strict';
  window.holdlineDemoToken = function (done) {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/demo/token');
    xhr.onload = function () {
      if (xhr.status !== 201) { done(new Error('no guest token (HTTP ' + xhr.status + ')')); return; }
      var guest;
      try { guest = JSON.parse(xhr.responseText); } catch (e) { done(e); return; }
      var names = document.querySelectorAll('[data-demo-viewer]');
      for (var i = 0; i < names.length; i++) names[i].textContent = guest.name;
      done(null, guest.token);
    };
    xhr.onerror = function () { done(new Error('no guest token (network)')); };
    xhr.send();
  };
}(window, document));
