// Choosing a slot holds it (POST /holds), then the confirm step. A slot taken meanwhile
// shows the alternatives the API returns, which can be held the same way.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useLocation, useSearch } from "wouter";
import { api, ApiError } from "../api";
import type { Alternative, Doctor } from "../api";
import { useSession } from "../auth";
import { Alternatives, ErrorNote } from "../ui";

interface HoldOut {
  doctor_id: string;
  start: string;
  end: string;
  expires_at: string;
}

export function useHold(doctor: Doctor | undefined) {
  const { me } = useSession();
  const [location, navigate] = useLocation();
  const search = useSearch();
  const reschedule = new URLSearchParams(search).get("reschedule");
  const [alternatives, setAlternatives] = useState<Alternative[] | null>(null);
  const mutation = useMutation({
    mutationFn: async ({ doctorId, start }: { doctorId: string; start: string }) =>
      api<HoldOut>("/holds", { method: "POST", body: { doctor_id: doctorId, start } }),
    onMutate: () => setAlternatives(null),
    onSuccess: (held) => {
      const q = new URLSearchParams({ start: held.start, until: held.expires_at });
      if (reschedule) q.set("reschedule", reschedule);
      navigate(`/doctors/${held.doctor_id}/confirm?${q}`);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.alternatives) setAlternatives(error.alternatives);
    },
  });
  const hold = (start: string, doctorId = doctor?.id ?? "") => {
    if (!me || me.role !== "patient") {
      // back to this very page (with its search) after signing in
      navigate(`/login?next=${encodeURIComponent(location + (search ? `?${search}` : ""))}`);
      return;
    }
    mutation.mutate({ doctorId, start });
  };
  const view = alternatives ? (
    <Alternatives alternatives={alternatives} zone={doctor?.timezone ?? "Asia/Jakarta"}
      onPick={(a) => hold(a.start, a.doctor_id)} />
  ) : mutation.isError ? <ErrorNote error={mutation.error} /> : null;
  return { mutate: hold, isPending: mutation.isPending, view };
}
