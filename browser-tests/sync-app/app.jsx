// A small app built with the published Basic SDK (0.5.0) in its default
// data mode: records live in the browser and are synchronised with the
// server over its WebSocket. `useQuery` shows the table as it is locally;
// the buttons write through the SDK's `db`. The project id and schema come
// from the page (set by sync-050.mjs).

import React, { useState } from "react";
import { createRoot } from "react-dom/client";
import { BasicProvider, useBasic, useQuery } from "@basictech/react";

const { projectId, schema } = window.BASIC_TEST;

function Todos() {
  const { isAuthReady, isSignedIn, signin, db, dbStatus } = useBasic();
  const [title, setTitle] = useState("");
  const todos = useQuery(() => (isSignedIn ? db.collection("todos").getAll() : []), [isSignedIn]);

  if (!isAuthReady) return <p id="status">loading</p>;
  if (!isSignedIn) {
    return (
      <main>
        <p id="status">signed out</p>
        <button onClick={signin}>Sign in</button>
      </main>
    );
  }
  const sorted = [...(todos ?? [])].sort((a, b) => a.title.localeCompare(b.title));
  return (
    <main>
      <p id="status">signed in</p>
      <p id="sync">{dbStatus}</p>
      <label>
        Title <input value={title} onChange={(e) => setTitle(e.target.value)} />
      </label>
      <button onClick={() => db.collection("todos").add({ title }).then(() => setTitle(""))}>Add</button>
      <ul id="todos">
        {sorted.map((todo) => (
          <li key={todo.id} data-id={todo.id}>
            <span className="title">{todo.title}</span>{" "}
            <button onClick={() => db.collection("todos").update(todo.id, { title: `${todo.title}!` })}>
              Emphasise {todo.title}
            </button>
          </li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById("root")).render(
  <BasicProvider project_id={projectId} schema={schema}>
    <Todos />
  </BasicProvider>,
);
