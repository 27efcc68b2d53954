// A small app built with the published Basic SDK (0.5.0), as an app
// developer writes one: BasicProvider around the page, useBasic for the
// user, and the SDK's REST helpers for the records. The project id and
// schema come from the page (set by sdk-050.mjs).

import React, { useState } from "react";
import { createRoot } from "react-dom/client";
import { BasicProvider, useBasic } from "@basictech/react";
// 0.5.0 does not export its REST helpers: they are imported from its source.
import { get, add, update, deleteRecord } from "@basictech/react/src/db.ts";

const { projectId, schema } = window.BASIC_TEST;

function Records() {
  const { isAuthReady, isSignedIn, user, signin, getToken } = useBasic();
  const [result, setResult] = useState(null);

  async function roundTrip() {
    const ask = async () => ({ projectId, accountId: user.id, tableName: "todos", token: await getToken() });
    const added = await add({ ...(await ask()), value: { title: "Milk" } });
    const afterAdd = await get(await ask());
    const updated = await update({ ...(await ask()), id: added.data.id, value: { title: "Oat milk" } });
    const afterUpdate = await get(await ask());
    await deleteRecord({ ...(await ask()), id: added.data.id });
    const afterDelete = await get(await ask());
    setResult({ added, afterAdd, updated, afterUpdate, afterDelete });
  }

  if (!isAuthReady) return <p id="status">loading</p>;
  if (!isSignedIn) {
    return (
      <main>
        <p id="status">signed out</p>
        <button onClick={signin}>Sign in</button>
      </main>
    );
  }
  return (
    <main>
      <p id="status">signed in</p>
      <p id="account">{user.id}</p>
      <button onClick={() => roundTrip().catch((e) => setResult({ error: String(e) }))}>Add, list, update, delete</button>
      {result && <pre id="result">{JSON.stringify(result, null, 2)}</pre>}
    </main>
  );
}

createRoot(document.getElementById("root")).render(
  <BasicProvider project_id={projectId} schema={schema}>
    <Records />
  </BasicProvider>,
);
