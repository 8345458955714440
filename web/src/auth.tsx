// Who is signed in: tokens in sessionStorage (like the dashboard), the profile from /auth/me.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, tokens, whenSignedOut } from "./api";
import type { Me, Tokens } from "./api";

interface Session {
  me: Me | null;
  loading: boolean;
  signIn(email: string, password: string): Promise<Me>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [hasToken, setHasToken] = useState(() => Boolean(tokens.access()));
  const me = useQuery({
    queryKey: ["me"],
    queryFn: () => api<Me>("/auth/me"),
    enabled: hasToken,
    staleTime: 5 * 60_000,
    retry: false,
  });

  useEffect(() => {
    whenSignedOut(() => {
      setHasToken(false);
      client.removeQueries();
    });
  }, [client]);

  const signIn = useCallback(async (email: string, password: string) => {
    const t = await api<Tokens>("/auth/login", { method: "POST", body: { email, password } });
    tokens.save(t);
    client.removeQueries();
    setHasToken(true);
    return client.fetchQuery({ queryKey: ["me"], queryFn: () => api<Me>("/auth/me") });
  }, [client]);

  const signOut = useCallback(async () => {
    const refresh = tokens.refresh();
    if (refresh) {
      // revoke it server-side; the page forgets both tokens either way
      await api("/auth/logout", { method: "POST", body: { refresh_token: refresh } }).catch(() => {});
    }
    tokens.clear();
    setHasToken(false);
    client.removeQueries();
  }, [client]);

  const value = useMemo<Session>(() => ({
    me: hasToken ? me.data ?? null : null,
    loading: hasToken && me.isPending,
    signIn,
    signOut,
  }), [hasToken, me.data, me.isPending, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
