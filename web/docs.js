// docs.js: renders /openapi.json (the service's own OpenAPI document) as a page: every
// operation with its parameters, request body, responses and security, then every schema.
// Plain JavaScript, no dependencies; nothing is fetched from anywhere but the service.
"use strict";

(function () {
  const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) node.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Text with `code` spans, as the document's descriptions write them.
  function prose(text) {
    const span = el("span");
    String(text || "").split(/(`[^`]*`)/).forEach((part) => {
      if (part.startsWith("`") && part.endsWith("`") && part.length > 1) {
        span.append(el("code", {}, part.slice(1, -1)));
      } else if (part) {
        span.append(document.createTextNode(part));
      }
    });
    return span;
  }

  function refName(ref) {
    return ref.split("/").pop();
  }

  function refLink(ref) {
    const name = refName(ref);
    return el("a", { href: "#schema-" + name }, name);
  }

  // A short description of a schema's type: a link for a $ref, else its type.
  function typeOf(schema) {
    if (!schema) return "";
    if (schema.$ref) return refLink(schema.$ref);
    if (schema.oneOf) {
      const parts = schema.oneOf.map(typeOf);
      return el("span", {}, parts.flatMap((p, i) => (i ? [" | ", p] : [p])));
    }
    if (schema.type === "array" || (Array.isArray(schema.type) && schema.type.includes("array"))) {
      return el("span", {}, "array of ", typeOf(schema.items));
    }
    let text = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "any";
    if (schema.enum) text += " (" + schema.enum.join(", ") + ")";
    return text;
  }

  function parameterTable(parameters) {
    if (!parameters || !parameters.length) return null;
    return el("table", {},
      el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "type"),
        el("th", {}, "required"), el("th", {}, "description")),
      parameters.map((p) => el("tr", { class: "param" },
        el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, typeOf(p.schema)),
        el("td", {}, p.required ? "yes" : "no"), el("td", {}, prose(p.description)))));
  }

  function contentList(content) {
    return Object.entries(content || {}).map(([type, media]) =>
      el("div", {}, el("code", {}, type), media.schema ? [": ", typeOf(media.schema)] : []));
  }

  function operation(path, method, op) {
    const body = op.requestBody;
    const security = (op.security || []).map((s) => Object.entries(s)
      .map(([name, scopes]) => name + (scopes.length ? " (" + scopes.join(", ") + ")" : "")).join(" + "));
    return el("details", { class: "op", id: "op-" + (op.operationId || method + path) },
      el("summary", {},
        el("span", { class: "method method-" + method }, method), " ",
        el("span", { class: "path" }, path), " ", el("span", { class: "muted" }, prose(op.summary))),
      op.description ? el("p", {}, prose(op.description)) : null,
      security.length ? el("p", {}, "API key scope: ", security.join(" or ")) : null,
      parameterTable(op.parameters),
      body ? el("div", {}, el("h4", {}, "Body"), el("p", {}, prose(body.description)),
        contentList(body.content)) : null,
      el("h4", {}, "Responses"),
      el("table", {}, Object.entries(op.responses || {}).map(([status, r]) =>
        el("tr", { class: "response" }, el("td", {}, el("code", {}, status)),
          el("td", {}, prose(r.description)), el("td", {}, contentList(r.content))))));
  }

  function schemaBlock(name, schema) {
    const block = el("div", { class: "schema", id: "schema-" + name },
      el("h3", {}, name), schema.description ? el("p", {}, prose(schema.description)) : null);
    if (schema.properties) {
      const required = new Set(schema.required || []);
      block.append(el("table", {},
        el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "required"),
          el("th", {}, "description")),
        Object.entries(schema.properties).map(([field, s]) => el("tr", {},
          el("td", {}, el("code", {}, field)), el("td", {}, typeOf(s)),
          el("td", {}, required.has(field) ? "yes" : "no"), el("td", {}, prose(s.description))))));
    } else if (schema.oneOf) {
      block.append(el("p", {}, "One of: ", typeOf(schema)));
      if (schema.discriminator) {
        block.append(el("p", {}, "Told apart by ", el("code", {}, schema.discriminator.propertyName), "."));
      }
    } else {
      block.append(el("p", {}, "Type: ", typeOf(schema),
        schema.pattern ? ["; pattern ", el("code", {}, schema.pattern)] : [],
        schema.maxLength ? "; at most " + schema.maxLength + " characters" : ""));
    }
    return block;
  }

  function render(doc) {
    document.getElementById("title").textContent = (doc.info && doc.info.title || "API") +
      (doc.info && doc.info.version ? " " + doc.info.version : "");
    const intro = document.getElementById("intro");
    String(doc.info && doc.info.description || "").split("\n\n")
      .forEach((p) => intro.append(el("p", {}, prose(p))));
    const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const tag = (item[method].tags || ["other"])[0];
        if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
        byTag.get(tag).ops.push(operation(path, method, item[method]));
      }
    }
    const operations = document.getElementById("operations");
    operations.replaceChildren();
    const toc = document.getElementById("toc");
    for (const { tag, ops } of byTag.values()) {
      if (!ops.length) continue;
      operations.append(el("h2", { id: "tag-" + tag.name }, tag.name));
      if (tag.description) operations.append(el("p", {}, prose(tag.description)));
      operations.append(...ops);
      toc.append(el("a", { href: "#tag-" + tag.name }, tag.name));
    }
    toc.append(el("a", { href: "#schemas-title" }, "schemas"));
    const schemas = document.getElementById("schemas");
    const all = (doc.components && doc.components.schemas) || {};
    for (const name of Object.keys(all).sort()) schemas.append(schemaBlock(name, all[name]));
    document.body.dataset.rendered = "true";
  }

  fetch("openapi.json", { headers: { accept: "application/json" } })
    .then((r) => {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(render)
    .catch((e) => {
      document.getElementById("status").textContent = "Could not load openapi.json: " + e.message;
      document.body.dataset.rendered = "error";
    });
})();
