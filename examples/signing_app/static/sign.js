// The signing page: shows the signature pad for "Draw my signature", draws with pointer events
// (mouse, pen and touch alike), puts the drawing into the form as a PNG, and stops a second click
// on "Sign". Without JavaScript the page still works with a typed name.
"use strict";
(function () {
  const form = document.getElementById("sign-form");
  if (!form) {
    return;
  }
  const pad = document.getElementById("signature-pad");
  const area = document.getElementById("pad-area");
  const image = document.getElementById("signature-image");
  const typed = document.getElementById("method-typed");
  const drawn = document.getElementById("method-drawn");
  const intentTyped = document.getElementById("intent-typed");
  const intentDrawn = document.getElementById("intent-drawn");
  const button = document.getElementById("sign-button");
  let inked = false;
  let last = null;

  // The pad's pixels follow its size on screen (times the device's pixel ratio, at most 2, so a
  // drawing stays within the 2000 x 1000 pixels a signature image may have).
  function sizePad() {
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    const box = pad.getBoundingClientRect();
    const width = Math.round(box.width * ratio);
    const height = Math.round(box.height * ratio);
    if (width > 0 && (pad.width !== width || pad.height !== height)) {
      pad.width = width;
      pad.height = height;
      inked = false;
    }
    const context = pad.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#0b1f4d";
    context.fillStyle = "#0b1f4d";
  }

  function showMethod() {
    const draw = drawn.checked;
    area.hidden = !draw;
    intentTyped.hidden = draw;
    intentDrawn.hidden = !draw;
    if (draw && !inked) {
      sizePad();
    }
  }

  function position(event) {
    const box = pad.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  pad.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    last = position(event);
    const context = pad.getContext("2d");
    context.beginPath();
    context.arc(last.x, last.y, context.lineWidth / 2, 0, 2 * Math.PI);
    context.fill();
    inked = true;
  });
  pad.addEventListener("pointermove", function (event) {
    if (last === null) {
      return;
    }
    event.preventDefault();
    const context = pad.getContext("2d");
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const each of events.length ? events : [event]) {
      const point = position(each);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(point.x, point.y);
      context.stroke();
      last = point;
    }
  });
  function stop() {
    last = null;
  }
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);
  document.getElementById("pad-clear").addEventListener("click", function () {
    pad.getContext("2d").clearRect(0, 0, pad.width, pad.height);
    inked = false;
  });
  typed.addEventListener("change", showMethod);
  drawn.addEventListener("change", showMethod);

  form.addEventListener("submit", function (event) {
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    image.value = drawn.checked && inked ? pad.toDataURL("image/png") : "";
    form.dataset.submitted = "yes";
    button.setAttribute("aria-disabled", "true");
    button.textContent = button.dataset.busy;
  });

  showMethod();
  const errors = document.getElementById("errors");
  if (errors) {
    errors.focus();
  }
})();
